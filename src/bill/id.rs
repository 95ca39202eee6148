//! Deterministic bill ids: the same request priced by the same tariff content gets the same id.

use std::cell::RefCell;

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
///
/// The bytes go to a buffer kept by the thread; a request with long names, too long for
/// it, is written again to the heap. A `Vec` allocated for every bill cost a fifth of
/// pricing it, and zeroing a buffer on the stack for every bill a twentieth.
pub fn bill_id(request: &BillRequest, tariff: &Tariff) -> BillId {
    thread_local! {
        static BYTES: RefCell<[u8; ROOM]> = const { RefCell::new([0; ROOM]) };
    }
    let in_buffer = BYTES.with_borrow_mut(|buffer| {
        let mut encoder = Encoder(Fixed::new(buffer));
        encoder.request(request, tariff);
        let len = encoder.0.written()?;
        Some(xxh3_128(&buffer[..len]))
    });
    BillId(in_buffer.unwrap_or_else(|| {
        let mut on_heap = Encoder(Vec::new());
        on_heap.request(request, tariff);
        xxh3_128(&on_heap.0)
    }))
}

/// Bytes for a request with a few processes and names of a few dozen characters.
const ROOM: usize = 512;

/// Where an encoder writes.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A buffer written front to back, which notes when a write did not fit. Its cursor stays
/// in registers: an encoder that kept its length in memory, for a call that could spill to
/// the heap, waited on that store at every write, a third of the id.
struct Fixed<'b> {
    rest: &'b mut [u8],
    size: usize,
    overflowed: bool,
}

impl<'b> Fixed<'b> {
    fn new(buffer: &'b mut [u8]) -> Fixed<'b> {
        Fixed {
            size: buffer.len(),
            rest: buffer,
            overflowed: false,
        }
    }

    /// How many bytes were written, unless some did not fit.
    fn written(&self) -> Option<usize> {
        (!self.overflowed).then(|| self.size - self.rest.len())
    }
}

impl Sink for Fixed<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if bytes.len() <= self.rest.len() {
            let (head, tail) = std::mem::take(&mut self.rest).split_at_mut(bytes.len());
            head.copy_from_slice(bytes);
            self.rest = tail;
        } else {
            self.overflowed = true;
            self.rest = &mut [];
        }
    }
}

/// Fixed-width fields behind presence tags, strings length-prefixed, so two different
/// requests never write the same bytes; hashed in one pass at the end.
struct Encoder<S>(S);

impl<S: Sink> Encoder<S> {
    #[inline(always)]
    fn request(&mut self, request: &BillRequest, tariff: &Tariff) {
        self.raw(&tariff.digest_bytes);
        self.date(Some(request.period.start()));
        self.date(Some(request.period.end()));
        let e = &request.enterprise;
        self.str(Some(&e.id));
        self.str(e.name.as_deref());
        self.raw(&[
            e.industry as u8,
            e.catalogue_class as u8,
            u8::from(e.capacity_cut_overdue),
            e.card as u8,
        ]);
        self.count(request.reclassified.len());
        for r in &request.reclassified {
            self.date(Some(r.from));
            self.raw(&[
                r.catalogue_class as u8,
                u8::from(r.capacity_cut_overdue),
                r.card as u8,
            ]);
        }
        // The registry decisions a classification came from: a bill names the data it rests on.
        self.count(request.decisions.len());
        for d in &request.decisions {
            self.date(Some(d.from));
            self.raw(&d.version.to_le_bytes());
            self.str(Some(&d.document));
        }
        let a = &request.assessment;
        self.tag(a.year.is_some());
        self.raw(&a.year.unwrap_or_default().to_le_bytes());
        self.count(a.steel_processes.len());
        for p in &a.steel_processes {
            self.raw(&[p.process as u8, p.grade as u8]);
            self.dec(Some(p.intensity));
        }
        self.tag(a.cement.is_some());
        if let Some(c) = &a.cement {
            self.raw(&[c.plant as u8]);
            self.date(c.commissioned);
            self.dec(Some(c.kwh_per_t));
        }
        self.dec(a.aluminum_kwh_per_t);
        self.dec(a.energy_intensity.as_ref().map(|i| i.value));
        self.dec(a.energy_intensity.as_ref().map(|i| i.limit));
        self.dec(Some(request.electricity.kwh));
        self.dec(request.electricity.base_price);
        self.dec(request.electricity.self_generated_kwh);
        self.tag(request.water.is_some());
        if let Some(w) = &request.water {
            self.dec(Some(w.m3));
            self.dec(w.quota_m3);
            self.dec(w.base_price);
            self.raw(&[w.meets_standard.map_or(2, u8::from)]);
        }
    }

    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) {
        self.0.put(bytes);
    }

    #[inline(always)]
    fn tag(&mut self, present: bool) {
        self.raw(&[u8::from(present)]);
    }

    /// A length: how many items, or bytes, follow.
    #[inline(always)]
    fn count(&mut self, n: usize) {
        self.raw(&(n as u32).to_le_bytes());
    }

    #[inline(always)]
    fn str(&mut self, s: Option<&str>) {
        self.tag(s.is_some());
        let s = s.unwrap_or_default();
        self.count(s.len());
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
    use super::{canonical, BillId, Encoder, Fixed, ROOM};
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
            let mut h = Encoder(Vec::new());
            h.dec(Some(d));
            let mut expected = vec![1];
            expected.extend_from_slice(&reference.serialize());
            proptest::prop_assert_eq!(h.0, expected);
        }
    }

    proptest::proptest! {
        /// The fixed buffer holds what fits and says when something did not: never a prefix
        /// taken for the whole.
        #[test]
        fn a_fixed_buffer_holds_what_the_heap_does_or_says_it_overflowed(
            names in proptest::collection::vec("[a-z忻州]{0,40}", 0..40),
        ) {
            let mut buffer = [0; ROOM];
            let mut fixed = Encoder(Fixed::new(&mut buffer));
            let mut heap = Encoder(Vec::new());
            for (i, name) in names.iter().enumerate() {
                fixed.str(Some(name));
                fixed.raw(&(i as u32).to_le_bytes());
                heap.str(Some(name));
                heap.raw(&(i as u32).to_le_bytes());
            }
            let written = fixed.0.written();
            proptest::prop_assert_eq!(written.is_none(), heap.0.len() > ROOM);
            if let Some(len) = written {
                proptest::prop_assert_eq!(&buffer[..len], &heap.0[..]);
            }
        }
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
