/**
 * Whole numbers with thousands separators ("1,234"), exactly as
 * `new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(value)` prints them
 * (halves rounded away from zero, "-0" for a negative value that rounds to zero), without Intl:
 * the first Intl object of a process loads ICU's number data, ~30–50 ms of CPU on Node 20/22
 * (`new Intl.NumberFormat(...)` in a fresh process), and the reports of a run without prices need
 * no other Intl service (money goes through `toLocaleString`). Values beyond 2^53 (never a count)
 * go to Intl, built on first use.
 */
export function formatInteger(value: number): string {
  const magnitude = Math.abs(value);
  if (!(magnitude < 2 ** 53)) return intl().format(value); // NaN, ±Infinity, huge
  // Math.round rounds halves up, which on the magnitude is away from zero, as Intl does.
  const digits = String(Math.round(magnitude));
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  if (digits.length <= 3) return sign + digits;
  const head = digits.length % 3 || 3;
  let out = sign + digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += "," + digits.slice(i, i + 3);
  return out;
}

let formatter: Intl.NumberFormat | undefined;
const intl = (): Intl.NumberFormat => (formatter ??= new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }));
