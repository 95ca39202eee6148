//! Deterministic bill ids: the same request priced by the same tariff content gets the same id.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use xxhash_rust::xxh3::xxh3_128;

use super::request::BillRequest;
use crate::tariff::Tariff;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BillId(pub u128);

impl BillId {
    /// `bill-` and 32 lowercase hex digits, without going through `fmt`.
    pub fn text(self) -> [u8; 37] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = *b"bill-00000000000000000000000000000000";
        for (pair, byte) in text[5..].chunks_exact_mut(2).zip(self.0.to_be_bytes()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        text
    }
}

impl std::fmt::Display for BillId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).expect("ASCII"))
    }
}

impl serde::Serialize for BillId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(std::str::from_utf8(&self.text()).expect("ASCII"))
    }
}

/// Hashes the normalised request (1.50 and 1.5 are the same quantity) with the tariff digest.
pub fn bill_id(request: &BillRequest, tariff: &Tariff) -> BillId {
    let mut h = Hasher::new();
    h.raw(&tariff.digest_bytes);
    h.date(Some(request.period.start()));
    h.date(Some(request.period.end()));
    let e = &request.enterprise;
    h.str(Some(&e.id));
    h.str(e.name.as_deref());
    h.raw(&[
        e.industry as u8,
        e.catalogue_class as u8,
        u8::from(e.capacity_cut_overdue),
        e.card as u8,
    ]);
    h.raw(&(request.reclassified.len() as u32).to_le_bytes());
    for r in &request.reclassified {
        h.date(Some(r.from));
        h.raw(&[
            r.catalogue_class as u8,
            u8::from(r.capacity_cut_overdue),
            r.card as u8,
        ]);
    }
    // The registry decisions a classification came from: a bill names the data it rests on.
    h.raw(&(request.decisions.len() as u32).to_le_bytes());
    for d in &request.decisions {
        h.date(Some(d.from));
        h.raw(&d.version.to_le_bytes());
        h.str(Some(&d.document));
    }
    let a = &request.assessment;
    h.tag(a.year.is_some());
    h.raw(&a.year.unwrap_or_default().to_le_bytes());
    h.raw(&(a.steel_processes.len() as u32).to_le_bytes());
    for p in &a.steel_processes {
        h.raw(&[p.process as u8, p.grade as u8]);
        h.dec(Some(p.intensity));
    }
    h.tag(a.cement.is_some());
    if let Some(c) = &a.cement {
        h.raw(&[c.plant as u8]);
        h.date(c.commissioned);
        h.dec(Some(c.kwh_per_t));
    }
    h.dec(a.aluminum_kwh_per_t);
    h.dec(a.energy_intensity.as_ref().map(|i| i.value));
    h.dec(a.energy_intensity.as_ref().map(|i| i.limit));
    h.dec(Some(request.electricity.kwh));
    h.dec(request.electricity.base_price);
    h.dec(request.electricity.self_generated_kwh);
    h.tag(request.water.is_some());
    if let Some(w) = &request.water {
        h.dec(Some(w.m3));
        h.dec(w.quota_m3);
        h.dec(w.base_price);
        h.raw(&[w.meets_standard.map_or(2, u8::from)]);
    }
    BillId(xxh3_128(h.bytes()))
}

/// Fixed-width fields behind presence tags, strings length-prefixed, so two different
/// requests never write the same bytes; hashed in one pass at the end.
///
/// The bytes go to a buffer on the stack, written with fixed-size copies: the id is a
/// fifth of what pricing a bill costs, a `Vec` allocated for every bill, and `SmallVec`'s
/// generic copies doubled the id's cost. A request with long names spills to the heap.
struct Hasher {
    stack: [u8; Hasher::STACK],
    len: usize,
    heap: Vec<u8>,
}

impl Hasher {
    /// Room for a request with a few processes and names of a few dozen characters.
    const STACK: usize = 512;

    fn new() -> Hasher {
        Hasher {
            stack: [0; Hasher::STACK],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }

    #[inline(always)]
    fn raw(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        if end <= Hasher::STACK && self.heap.is_empty() {
            self.stack[self.len..end].copy_from_slice(b);
            self.len = end;
        } else {
            self.spill(b);
        }
    }

    #[cold]
    fn spill(&mut self, b: &[u8]) {
        if self.heap.is_empty() {
            self.heap.extend_from_slice(&self.stack[..self.len]);
        }
        self.heap.extend_from_slice(b);
    }

    #[inline(always)]
    fn tag(&mut self, present: bool) {
        self.raw(&[u8::from(present)]);
    }

    #[inline(always)]
    fn str(&mut self, s: Option<&str>) {
        self.tag(s.is_some());
        let s = s.unwrap_or_default();
        self.raw(&(s.len() as u32).to_le_bytes());
        self.raw(s.as_bytes());
    }

    /// Writes the bytes of `Decimal::serialize` from 64-bit registers: any 16-byte copy
    /// (of `serialize`, of a `u128` or of a `Decimal` returned) went through the stack and
    /// stalled on store forwarding, a third of the id.
    #[inline(always)]
    fn dec(&mut self, d: Option<Decimal>) {
        self.tag(d.is_some());
        let Canonical { flags, low, hi } = canonical(d.unwrap_or_default());
        self.raw(&(u64::from(flags) | low << 32).to_le_bytes());
        self.raw(&(low >> 32 | u64::from(hi) << 32).to_le_bytes());
    }

    #[inline(always)]
    fn date(&mut self, d: Option<NaiveDate>) {
        self.tag(d.is_some());
        self.raw(&d.map_or(0, |d| d.num_days_from_ce()).to_le_bytes());
    }
}

/// A decimal with its trailing zeros stripped, in the words `Decimal::serialize` writes:
/// its flags (scale and sign), the low 64 bits of its mantissa and the high 32.
#[derive(Debug, PartialEq)]
struct Canonical {
    flags: u32,
    low: u64,
    hi: u32,
}

impl Canonical {
    fn new(low: u64, hi: u32, scale: u32, negative: bool) -> Canonical {
        Canonical {
            flags: scale << 16 | u32::from(negative) << 31,
            low,
            hi,
        }
    }
}

/// 1.50 and 1.5 are the same quantity. Most values have no trailing zero to strip, which a
/// cheap test shows: the mantissa is odd, or not a multiple of 5 (2^32 ≡ 1 mod 5, so the
/// sum of its 32-bit words has the same remainder).
#[inline]
fn canonical(d: Decimal) -> Canonical {
    let u = d.unpack();
    let low = u64::from(u.mid) << 32 | u64::from(u.lo);
    let whole_or_odd = u.scale == 0
        || u.lo & 1 == 1
        || (u64::from(u.lo) + u64::from(u.mid) + u64::from(u.hi)) % 5 != 0;
    if whole_or_odd {
        return Canonical::new(low, u.hi, u.scale, u.negative);
    }
    if u.hi != 0 {
        let n = d.normalize().unpack();
        return Canonical::new(
            u64::from(n.mid) << 32 | u64::from(n.lo),
            n.hi,
            n.scale,
            n.negative,
        );
    }
    // The zeros stripped in 64 bits, as `normalize` would strip them (zero loses its sign).
    let (mut mantissa, mut scale) = (low, u.scale);
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Canonical::new(mantissa, 0, scale, u.negative && mantissa != 0)
}

#[cfg(test)]
mod tests {
    use super::{canonical, BillId, Hasher};
    use rust_decimal::Decimal;

    proptest::proptest! {
        /// Mantissas with trailing zeros (`zeros` of them) as well as without, zero included.
        #[test]
        fn decimals_are_written_as_rust_decimal_normalizes_and_serializes_them(
            mantissa in proptest::prop_oneof![proptest::strategy::Just(0), proptest::num::i128::ANY],
            zeros in 0u32..8, scale in 0u32..=28, negative: bool,
        ) {
            let mantissa = (mantissa % (1 << 70)) * 10i128.pow(zeros) % (1 << 96);
            let mut d = Decimal::from_i128_with_scale(mantissa, scale);
            d.set_sign_negative(negative);
            // What ids were first hashed from: whole numbers as given, others normalised.
            let reference = if d.scale() == 0 { d } else { d.normalize() };
            let mut h = Hasher::new();
            h.dec(Some(d));
            let mut expected = vec![1];
            expected.extend_from_slice(&reference.serialize());
            proptest::prop_assert_eq!(h.bytes(), &expected[..]);
        }
    }

    #[test]
    fn a_request_longer_than_the_stack_buffer_hashes_all_its_bytes() {
        let mut h = Hasher::new();
        let mut expected = Vec::new();
        for i in 0..100u32 {
            let name = "忻州".repeat(i as usize % 7);
            h.str(Some(&name));
            h.raw(&i.to_le_bytes());
            expected.push(1);
            expected.extend_from_slice(&(name.len() as u32).to_le_bytes());
            expected.extend_from_slice(name.as_bytes());
            expected.extend_from_slice(&i.to_le_bytes());
        }
        assert!(expected.len() > Hasher::STACK);
        assert_eq!(h.bytes(), &expected[..]);
    }

    #[test]
    fn ids_read_as_32_hex_digits() {
        for id in [
            0,
            1,
            0xabc,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            assert_eq!(BillId(id).to_string(), format!("bill-{id:032x}"));
        }
    }

    #[test]
    fn trailing_zeros_do_not_change_the_canonical_value() {
        for (a, b) in [
            ("1.50", "1.5"),
            ("100.000", "100"),
            ("0.10", "0.1"),
            ("25.0", "25"),
            ("4294967296.0", "4294967296"),
        ] {
            let (a, b): (Decimal, Decimal) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(canonical(a), canonical(b), "{a} {b}");
        }
        let odd: Decimal = "1.25".parse().unwrap();
        assert_eq!(canonical(odd).flags >> 16, 2);
    }
}
