/** Block subsidy (consensus): 50 BTC halved every `halvingInterval` blocks, zero after 64 halvings. */
export const COIN = 100_000_000n;

export function blockSubsidy(height: number, halvingInterval: number): bigint {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`block height ${height} is not valid`);
  if (!Number.isSafeInteger(halvingInterval) || halvingInterval <= 0) throw new RangeError(`halving interval ${halvingInterval} is not valid`);
  const halvings = Math.floor(height / halvingInterval);
  if (halvings >= 64) return 0n;
  return (50n * COIN) >> BigInt(halvings);
}
