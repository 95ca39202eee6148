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
    let mut h = Hasher(Vec::with_capacity(256));
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
    BillId(xxh3_128(&h.0))
}

/// Fixed-width fields behind presence tags, strings length-prefixed, so two different
/// requests never write the same bytes; hashed in one pass at the end.
struct Hasher(Vec<u8>);

impl Hasher {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn tag(&mut self, present: bool) {
        self.0.push(u8::from(present));
    }

    fn str(&mut self, s: Option<&str>) {
        self.tag(s.is_some());
        let s = s.unwrap_or_default();
        self.raw(&(s.len() as u32).to_le_bytes());
        self.raw(s.as_bytes());
    }

    fn dec(&mut self, d: Option<Decimal>) {
        self.tag(d.is_some());
        self.raw(&canonical(d.unwrap_or_default()).serialize());
    }

    fn date(&mut self, d: Option<NaiveDate>) {
        self.tag(d.is_some());
        self.raw(&d.map_or(0, |d| d.num_days_from_ce()).to_le_bytes());
    }
}

/// 1.50 and 1.5 are the same quantity. Most values have no trailing zero to strip, which a
/// cheap test shows: the mantissa is odd, or not a multiple of 5 (2^32 ≡ 1 mod 5, so the
/// sum of its 32-bit words has the same remainder).
fn canonical(d: Decimal) -> Decimal {
    if d.scale() == 0 {
        return d;
    }
    let u = d.unpack();
    if u.lo & 1 == 1 || (u64::from(u.lo) + u64::from(u.mid) + u64::from(u.hi)) % 5 != 0 {
        return d;
    }
    d.normalize()
}

#[cfg(test)]
mod tests {
    use super::{canonical, BillId};
    use rust_decimal::Decimal;

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
            assert_eq!(
                canonical(a).serialize(),
                canonical(b).serialize(),
                "{a} {b}"
            );
        }
        let odd: Decimal = "1.25".parse().unwrap();
        assert_eq!(canonical(odd).scale(), 2);
    }
}
