/** The verifier is the runbooks' (the rotation computes it too); the local servers use the same one. */
export { SCRAM_ITERATIONS, scramVerifier } from '../../lambdas/shared/scram.ts';
