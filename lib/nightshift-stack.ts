import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { NightshiftConfig } from './config/schema.ts';
import { Nightshift } from './nightshift.ts';

/** Properties of {@link NightshiftStack}. */
export interface NightshiftStackProps extends StackProps {
  readonly config: NightshiftConfig;
}

/** The stack `bin/app.ts` deploys: the {@link Nightshift} construct and the reasons for its nag findings. */
export class NightshiftStack extends Stack {
  readonly nightshift: Nightshift;

  constructor(scope: Construct, id: string, props: NightshiftStackProps) {
    super(scope, id, props);
    this.nightshift = new Nightshift(this, 'Nightshift', { config: props.config });
  }
}
