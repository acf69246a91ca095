/** The submitter's refusals that come before any Redis work (src/outbound/submit.ts), from a table. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load.js";
import { createLogger } from "../../../src/observability/log.js";
import { Keyspace } from "../../../src/redis/keyspace.js";
import { createOutboundSubmitter } from "../../../src/outbound/submit.js";
import type { DkimSigner } from "../../../src/outbound/dkim-signer.js";

const ALICE = "alice@example.test";
const raw = Buffer.from(`From: ${ALICE}\r\nSubject: hi\r\n\r\nbody\r\n`);
const submitter = (outbound: Record<string, unknown>) => createOutboundSubmitter({
  config: parseConfig({ domains: { "example.test": { primary: ["127.0.0.1:2525"] } }, outbound }),
  // none of these refusals may touch Redis, the spool or the queue
  redis: undefined as never, local: undefined as never, queue: undefined as never, dkim: undefined as unknown as DkimSigner,
  keys: new Keyspace("mxspool"), log: createLogger("fatal", {}, "json"),
});

describe("outbound submitter refusals", () => {
  it.each([
    ["outbound off", { enabled: false }, {}, [550, "5.7.1"]],
    ["a recipient with a line end", { enabled: true }, { recipients: ["x@remote.test\r\nRCPT TO:<y@remote.test>"] }, [553, "5.1.3"]],
    ["a recipient without a domain", { enabled: true }, { recipients: ["nobody"] }, [553, "5.1.3"]],
    ["no recipients", { enabled: true }, { recipients: [] }, [554, "5.5.1"]],
    ["too many recipients", { enabled: true, limits: { recipientsPerMessage: 2 } }, { recipients: ["a@r.test", "b@r.test", "c@r.test"] }, [452, "4.5.3"]],
    ["too big", { enabled: true, maxMessageSize: 10 }, {}, [552, "5.3.4"]],
    ["another user's envelope sender", { enabled: true }, { envelopeFrom: "bob@example.test" }, [553, "5.7.1"]],
    ["another user's From", { enabled: true }, { raw: Buffer.from("From: bob@example.test\r\n\r\nx") }, [553, "5.7.1"]],
  ])("%s", async (_n, outbound, over, [code, enhanced]) => {
    const res = await submitter(outbound).submit({ user: ALICE, envelopeFrom: ALICE, recipients: ["ext@remote.test"], raw, via: "webmail", ...over });
    expect(res).toMatchObject({ ok: false, code, enhanced });
  });
});
