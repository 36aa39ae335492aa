/** Block subsidy (consensus): 50 BTC halved every `halvingInterval` blocks, zero after 64 halvings. */
export const COIN = 100_000_000n;

export function blockSubsidy(height: number, halvingInterval: number): bigint {
  const halvings = Math.floor(height / halvingInterval);
  if (halvings >= 64) return 0n;
  return (50n * COIN) >> BigInt(halvings);
}
