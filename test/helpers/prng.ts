/** The tests' PRNG is the one the traffic generator uses (policies/prng.ts). */
export { prng } from "../../policies/prng.js";
