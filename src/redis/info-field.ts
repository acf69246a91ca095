/** A numeric field of Redis's INFO text (`name:123`), 0 when absent. */
export function infoNumber(info: string, name: string): number {
  return Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
}
