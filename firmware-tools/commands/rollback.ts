import type { Command } from "commander";
import { connectBroker, endAsync } from "../../host/agent/connection.js";
import { readSigningKey } from "../lib/fleet/keys.js";
import { rollbackGroup } from "../lib/fleet/rollback.js";
import { addBrokerOptions, BrokerFlags, brokerOptionsFrom } from "./fleet-options.js";

export function registerRollback(program: Command): void {
  addBrokerOptions(
    program
      .command("rollback")
      .description("re-activate the group's previous release, signed as a rollback (devices accept this downgrade)")
      .requiredOption("--group <name>", "device group")
      .requiredOption("--key <file>", "Ed25519 private key to sign the rollback with")
      .option("--to <version>", "roll back to this version instead of the newest older one"),
  ).action(async (o: BrokerFlags & { group: string; key: string; to?: string }) => {
    const key = readSigningKey(o.key);
    const client = await connectBroker(brokerOptionsFrom(o), { clientId: `edgerun-rollback-${process.pid}` });
    try {
      const r = await rollbackGroup(client, o.group, key, o.to);
      console.log(`group ${o.group}: rollback from ${r.from} to ${r.to.version} published (signed by ${r.to.keyId}); follow it with edgerun status --group ${o.group}`);
    } finally {
      await endAsync(client);
    }
  });
}
