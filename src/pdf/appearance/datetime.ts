/**
 * Formats an instant the way Vietnamese administrative documents print it: `dd/MM/yyyy HH:mm:ss ±hh:mm`,
 * in the given fixed UTC offset (Việt Nam is +07:00 all year, no daylight saving). The offset is
 * printed so the stamp states the time unambiguously, like the /M entry of the signature dictionary
 * (ISO 32000-1 §7.9.4).
 */
export function formatVietnameseDateTime(date: Date, tz = '+07:00'): string {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(tz);
  if (match === null) throw new RangeError(`time-zone offset must look like +07:00, got ${JSON.stringify(tz)}`);
  const [, sign, hh, mm] = match as unknown as [string, string, string, string];
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  // Shift the instant by the offset and read it with the UTC getters: that yields the wall-clock
  // time at that offset without depending on the process's TZ.
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${two(local.getUTCDate())}/${two(local.getUTCMonth() + 1)}/${String(local.getUTCFullYear()).padStart(4, '0')} ` +
    `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ${tz}`
  );
}
