//! Bills written as JSON by hand, for the batch: it writes millions of them, and serde's
//! generic path (escaping every key, formatting decimals through a string) cost half of its
//! time. The output is byte for byte what the derived `Serialize` writes; property tests
//! compare the two over generated bills, so a field added to the view and not here fails.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{BillResponse, LineItemView, PeriodView, TotalsView, WarningView};

impl BillResponse<'_> {
    /// Appends the bill as compact JSON, the same bytes as `serde_json::to_writer`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"bill_id\":\"");
        out.extend_from_slice(&self.bill_id.text());
        out.extend_from_slice(b"\",\"engine_version\":");
        name(out, self.engine_version);
        out.extend_from_slice(b",\"tariff\":{\"id\":");
        string(out, self.tariff.id);
        out.extend_from_slice(b",\"version\":");
        string(out, self.tariff.version);
        out.extend_from_slice(b",\"digest\":");
        string(out, self.tariff.digest);
        out.extend_from_slice(b"},\"period\":");
        period(out, &self.period);
        out.extend_from_slice(b",\"enterprise_id\":");
        string(out, self.enterprise_id);
        if let Some(lines) = &self.line_items {
            out.extend_from_slice(b",\"line_items\":");
            list(out, lines, line_item);
        }
        out.extend_from_slice(b",\"totals\":");
        totals(out, &self.totals);
        out.extend_from_slice(b",\"warnings\":");
        list(out, &self.warnings, warning);
        if let Some(trace) = &self.trace {
            // Only `detail=full` carries a trace; it is rare enough for serde.
            out.extend_from_slice(b",\"trace\":");
            serde_json::to_writer(&mut *out, trace).expect("traces serialise");
        }
        out.push(b'}');
    }
}

fn period(out: &mut Vec<u8>, period: &PeriodView) {
    out.extend_from_slice(b"{\"start\":");
    date(out, period.start);
    out.extend_from_slice(b",\"end\":");
    date(out, period.end);
    out.push(b'}');
}

fn line_item(out: &mut Vec<u8>, line: &LineItemView) {
    out.extend_from_slice(b"{\"rule\":");
    name(out, line.rule);
    out.extend_from_slice(b",\"kind\":");
    name(out, line.kind);
    out.extend_from_slice(b",\"status\":");
    name(out, line.status);
    if let Some(by) = line.superseded_by {
        out.extend_from_slice(b",\"superseded_by\":");
        name(out, by);
    }
    if let Some(tier) = line.tier {
        out.extend_from_slice(b",\"tier\":");
        out.extend_from_slice(itoa::Buffer::new().format(tier).as_bytes());
    }
    out.extend_from_slice(b",\"from\":");
    date(out, line.from);
    out.extend_from_slice(b",\"to\":");
    date(out, line.to);
    out.extend_from_slice(b",\"quantity\":");
    decimal(out, line.quantity);
    out.extend_from_slice(b",\"unit\":");
    name(out, line.unit);
    out.extend_from_slice(b",\"rate\":");
    decimal(out, line.rate);
    out.extend_from_slice(b",\"amount\":");
    decimal(out, line.amount);
    out.extend_from_slice(b",\"basis\":");
    list(out, &line.basis, |out, citation| {
        out.extend_from_slice(citation.get().as_bytes())
    });
    if let Some(explanation) = &line.explanation {
        out.extend_from_slice(b",\"explanation\":");
        string(out, explanation);
    }
    if let Some(decision) = &line.decision {
        out.extend_from_slice(b",\"decision\":{\"version\":");
        out.extend_from_slice(itoa::Buffer::new().format(decision.version).as_bytes());
        out.extend_from_slice(b",\"document\":");
        string(out, decision.document);
        out.push(b'}');
    }
    out.push(b'}');
}

fn totals(out: &mut Vec<u8>, totals: &TotalsView) {
    out.extend_from_slice(b"{\"electricity_surcharge\":");
    decimal(out, totals.electricity_surcharge);
    out.extend_from_slice(b",\"water_surcharge\":");
    decimal(out, totals.water_surcharge);
    out.extend_from_slice(b",\"surcharge\":");
    decimal(out, totals.surcharge);
    out.extend_from_slice(b",\"base\":");
    decimal(out, totals.base);
    out.extend_from_slice(b",\"total\":");
    decimal(out, totals.total);
    out.push(b'}');
}

fn warning(out: &mut Vec<u8>, warning: &WarningView) {
    out.extend_from_slice(b"{\"code\":");
    name(out, warning.code);
    out.extend_from_slice(b",\"message\":");
    string(out, &warning.message);
    if !warning.parameters.is_empty() {
        out.extend_from_slice(b",\"parameters\":");
        list(out, &warning.parameters, |out, p| string(out, p));
    }
    out.push(b'}');
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// One of our own names (`rule`, `kind`, `unit`, …): plain ASCII, nothing to escape.
fn name(out: &mut Vec<u8>, text: &'static str) {
    debug_assert!(!needs_escape(text.as_bytes()), "{text:?}");
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// A JSON string, escaped as serde_json escapes: `"`, `\` and control characters only.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !needs_escape(bytes) {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut clean = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[clean..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
        } else {
            out.extend_from_slice(short);
        }
        clean = i + 1;
    }
    out.extend_from_slice(&bytes[clean..]);
    out.push(b'"');
}

/// Without an early exit, so the compiler checks many bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |found, &b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// A decimal as a JSON string, as `rust_decimal` writes it: every digit of its scale, a
/// sign when negative (zero too).
fn decimal(out: &mut Vec<u8>, value: Decimal) {
    write_decimal(out, value, true);
}

/// A decimal as `rust_decimal` displays it, without quotes (a CSV cell).
pub fn bare_decimal(out: &mut Vec<u8>, value: Decimal) {
    write_decimal(out, value, false);
}

fn write_decimal(out: &mut Vec<u8>, value: Decimal, quoted: bool) {
    match u64::try_from(value.mantissa().unsigned_abs()) {
        Ok(mantissa) => small_decimal(
            out,
            value.is_sign_negative(),
            mantissa,
            value.scale(),
            quoted,
        ),
        Err(_) => wide_decimal(out, value, quoted),
    }
}

/// Built in a fixed buffer and appended at its full size, then cut: a copy of unknown
/// length is a call into libc, and every bill writes a dozen decimals.
fn small_decimal(out: &mut Vec<u8>, negative: bool, mut mantissa: u64, scale: u32, quoted: bool) {
    let quotes = u32::from(quoted);
    let digits = mantissa.checked_ilog10().map_or(1, |l| l + 1);
    let integer_digits = digits.saturating_sub(scale).max(1);
    let fraction = if scale > 0 { 1 + scale } else { 0 };
    let length = (2 * quotes + u32::from(negative) + integer_digits + fraction) as usize;
    // The longest text is 33 bytes: quotes, sign, `0.` and 28 decimals.
    let mut text = [b'0'; 40];
    let end = length - quotes as usize;
    if quoted {
        text[0] = b'"';
        text[end] = b'"';
    }
    if negative {
        text[quotes as usize] = b'-';
    }
    // Right to left: the scale's digits (zeros once the mantissa runs out), the point, then
    // at least one integer digit.
    let mut at = put_digits(&mut text, end, &mut mantissa, scale);
    if scale > 0 {
        at -= 1;
        text[at] = b'.';
    }
    put_digits(&mut text, at, &mut mantissa, integer_digits);
    let start = out.len();
    out.extend_from_slice(&text);
    out.truncate(start + length);
}

/// Writes the `count` lowest digits of `n` to end at `end`, two at a time (half the
/// divisions); returns where they start and leaves the higher digits in `n`.
fn put_digits(text: &mut [u8], end: usize, n: &mut u64, count: u32) -> usize {
    static PAIRS: [u8; 200] = {
        let mut pairs = [0; 200];
        let mut i = 0;
        while i < 100 {
            pairs[2 * i] = b'0' + (i / 10) as u8;
            pairs[2 * i + 1] = b'0' + (i % 10) as u8;
            i += 1;
        }
        pairs
    };
    let mut at = end;
    if count % 2 == 1 {
        at -= 1;
        text[at] = b'0' + (*n % 10) as u8;
        *n /= 10;
    }
    for _ in 0..count / 2 {
        let pair = (*n % 100) as usize * 2;
        *n /= 100;
        at -= 2;
        text[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    at
}

/// Mantissas beyond `u64` (up to 29 digits): rare, so through `itoa`'s `u128`.
fn wide_decimal(out: &mut Vec<u8>, value: Decimal, quoted: bool) {
    if quoted {
        out.push(b'"');
    }
    if value.is_sign_negative() {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value.mantissa().unsigned_abs()).as_bytes();
    let scale = value.scale() as usize;
    match digits.len().checked_sub(scale) {
        Some(0) | None => {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + scale - digits.len(), b'0');
            out.extend_from_slice(digits);
        }
        Some(whole) => {
            out.extend_from_slice(&digits[..whole]);
            if scale > 0 {
                out.push(b'.');
                out.extend_from_slice(&digits[whole..]);
            }
        }
    }
    if quoted {
        out.push(b'"');
    }
}

fn date(out: &mut Vec<u8>, day: NaiveDate) {
    match crate::period::write_iso_date(day) {
        Some(text) => {
            out.push(b'"');
            out.extend_from_slice(&text);
            out.push(b'"');
        }
        None => string(out, &day.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_of(value: &impl serde::Serialize) -> String {
        serde_json::to_string(value).unwrap()
    }

    fn ours(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_read_as_rust_decimal_writes_them() {
        let cases = [
            "0",
            "0.00",
            "-0.00",
            "0.05",
            "-0.05",
            "1",
            "10",
            "1.50",
            "123.456",
            "-7.0",
            "0.0000000000000000000000000001",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7.9228162514264337593543950335",
            "18446744073709551616",
            "18446744073709551615.00",
            "18446744073709551615",
            "1844674407370955161.5",
            "0.18446744073709551615",
            "-0.0000000000000000000000000001",
            "-0.0000000000000000018446744073709551615",
            "1000000000000000000",
        ];
        for case in cases {
            let value: Decimal = case.parse().unwrap();
            assert_eq!(ours(|o| decimal(o, value)), serde_of(&value), "{case}");
            assert_eq!(
                ours(|o| bare_decimal(o, value)),
                value.to_string(),
                "{case}"
            );
        }
        let negative_zero = -Decimal::new(0, 2);
        assert_eq!(
            ours(|o| decimal(o, negative_zero)),
            serde_of(&negative_zero)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_decimal_reads_as_rust_decimal_writes_it(mantissa: i128, scale in 0u32..=28) {
            let mantissa = mantissa % 79_228_162_514_264_337_593_543_950_336;
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            proptest::prop_assert_eq!(ours(|o| decimal(o, value)), serde_of(&value));
            let small = Decimal::from_i128_with_scale(mantissa % 1_000_000_000_000, scale);
            proptest::prop_assert_eq!(ours(|o| decimal(o, small)), serde_of(&small));
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "",
            "XZ-0001",
            "忻州某钢铁有限公司",
            "a\"b\\c/d",
            "tab\tnew\nline\rfeed\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "end\"",
        ] {
            assert_eq!(ours(|o| string(o, text)), serde_of(&text), "{text:?}");
        }
    }

    #[test]
    fn dates_read_as_chrono_writes_them() {
        for (y, m, d) in [(2020, 10, 1), (1, 1, 1), (9999, 12, 31), (0, 2, 29)] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(ours(|o| date(o, day)), serde_of(&day));
        }
        for day in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
        ] {
            assert_eq!(ours(|o| date(o, day)), serde_of(&day));
        }
    }
}
