//! A reader for the bill request as billing systems write it, in one pass over the bytes
//! without serde's visitors: batches read hundreds of thousands of records a second and
//! this reading was the largest share of their time.
//!
//! It reads a strict subset of what serde accepts: keys and strings without escapes, each
//! field at most once, no `null`, no unknown fields. For anything else it answers `None`
//! and the caller lets serde read the record, so answers and error messages are serde's.
//! Where it answers, it answers as serde would; a property test holds it to that.

use serde::de::value::{BorrowedStrDeserializer, Error as ValueError};
use serde::Deserialize;

use super::{
    AssessmentBody, BillRequestBody, CementBody, ElectricityBody, EnterpriseBody, IntensityBody,
    PeriodBody, ProcessBody, WaterBody,
};
use crate::number::{parse_decimal, Exact};
use crate::period::parse_iso_date;

/// The request in `text`, or `None` when serde must read it.
pub fn read(text: &str) -> Option<BillRequestBody> {
    let mut reader = Reader { text, at: 0 };
    let body = reader.body()?;
    // Whitespace may follow; anything else is serde's to refuse.
    reader.peek().is_none().then_some(body)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

/// Fills a field's slot; a field given twice is serde's to report.
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value?);
    Some(())
}

impl<'a> Reader<'a> {
    fn body(&mut self) -> Option<BillRequestBody> {
        let (mut tariff, mut period, mut enterprise) = (None, None, None);
        let (mut assessment, mut electricity, mut water) = (None, None, None);
        self.object(|r, key| match key {
            "tariff" => once(&mut tariff, r.string().map(str::to_owned)),
            "period" => once(&mut period, r.period()),
            "enterprise" => once(&mut enterprise, r.enterprise()),
            "assessment" => once(&mut assessment, r.assessment()),
            "electricity" => once(&mut electricity, r.electricity()),
            "water" => once(&mut water, r.water()),
            _ => None,
        })?;
        Some(BillRequestBody {
            tariff,
            period: period?,
            enterprise: enterprise?,
            assessment,
            electricity: electricity?,
            water,
        })
    }

    fn period(&mut self) -> Option<PeriodBody> {
        let (mut start, mut end, mut month) = (None, None, None);
        self.object(|r, key| match key {
            "start" => once(&mut start, r.date()),
            "end" => once(&mut end, r.date()),
            "month" => once(&mut month, r.string().map(str::to_owned)),
            _ => None,
        })?;
        Some(PeriodBody { start, end, month })
    }

    fn enterprise(&mut self) -> Option<EnterpriseBody> {
        let (mut id, mut name, mut industry) = (None, None, None);
        let (mut class, mut overdue, mut card) = (None, None, None);
        self.object(|r, key| match key {
            "id" => once(&mut id, r.string().map(str::to_owned)),
            "name" => once(&mut name, r.string().map(str::to_owned)),
            "industry" => once(&mut industry, r.variant()),
            "catalogue_class" => once(&mut class, r.variant()),
            "capacity_cut_overdue" => once(&mut overdue, r.boolean()),
            "card" => once(&mut card, r.variant()),
            _ => None,
        })?;
        Some(EnterpriseBody {
            id: id?,
            name,
            industry,
            catalogue_class: class,
            capacity_cut_overdue: overdue,
            card,
        })
    }

    fn assessment(&mut self) -> Option<AssessmentBody> {
        let (mut year, mut processes, mut cement) = (None, None, None);
        let (mut aluminum, mut intensity) = (None, None);
        self.object(|r, key| match key {
            "year" => once(&mut year, r.year()),
            "steel_processes" => once(&mut processes, r.list(Reader::process)),
            "cement" => once(&mut cement, r.cement()),
            "aluminum_kwh_per_t" => once(&mut aluminum, r.decimal()),
            "energy_intensity" => once(&mut intensity, r.intensity()),
            _ => None,
        })?;
        Some(AssessmentBody {
            year,
            steel_processes: processes.unwrap_or_default(),
            cement,
            aluminum_kwh_per_t: aluminum,
            energy_intensity: intensity,
        })
    }

    fn process(&mut self) -> Option<ProcessBody> {
        let (mut process, mut grade, mut intensity) = (None, None, None);
        self.object(|r, key| match key {
            "process" => once(&mut process, r.variant()),
            "grade" => once(&mut grade, r.variant()),
            "intensity" => once(&mut intensity, r.decimal()),
            _ => None,
        })?;
        Some(ProcessBody {
            process: process?,
            grade: grade.unwrap_or_default(),
            intensity: intensity?,
        })
    }

    fn cement(&mut self) -> Option<CementBody> {
        let (mut plant, mut commissioned, mut kwh_per_t) = (None, None, None);
        self.object(|r, key| match key {
            "plant" => once(&mut plant, r.variant()),
            "commissioned" => once(&mut commissioned, r.date()),
            "kwh_per_t" => once(&mut kwh_per_t, r.decimal()),
            _ => None,
        })?;
        Some(CementBody {
            plant: plant?,
            commissioned,
            kwh_per_t: kwh_per_t?,
        })
    }

    fn intensity(&mut self) -> Option<IntensityBody> {
        let (mut value, mut limit) = (None, None);
        self.object(|r, key| match key {
            "value" => once(&mut value, r.decimal()),
            "limit" => once(&mut limit, r.decimal()),
            _ => None,
        })?;
        Some(IntensityBody {
            value: value?,
            limit: limit?,
        })
    }

    fn electricity(&mut self) -> Option<ElectricityBody> {
        let (mut kwh, mut base_price, mut self_generated_kwh) = (None, None, None);
        self.object(|r, key| match key {
            "kwh" => once(&mut kwh, r.decimal()),
            "base_price" => once(&mut base_price, r.decimal()),
            "self_generated_kwh" => once(&mut self_generated_kwh, r.decimal()),
            _ => None,
        })?;
        Some(ElectricityBody {
            kwh: kwh?,
            base_price,
            self_generated_kwh,
        })
    }

    fn water(&mut self) -> Option<WaterBody> {
        let (mut m3, mut quota_m3, mut base_price, mut meets) = (None, None, None, None);
        self.object(|r, key| match key {
            "m3" => once(&mut m3, r.decimal()),
            "quota_m3" => once(&mut quota_m3, r.decimal()),
            "base_price" => once(&mut base_price, r.decimal()),
            "meets_standard" => once(&mut meets, r.boolean()),
            _ => None,
        })?;
        Some(WaterBody {
            m3: m3?,
            quota_m3,
            base_price,
            meets_standard: meets,
        })
    }

    // The JSON grammar, as far as requests use it.

    /// `{"key": value, …}`: `field` reads the value of each key.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            field(self, key)?;
            if self.close(b'}')? {
                return Some(());
            }
        }
    }

    /// `[item, …]`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            if self.close(b']')? {
                return Some(items);
            }
        }
    }

    /// After a member: `,` (false: more follow) or `end` (true).
    fn close(&mut self, end: u8) -> Option<bool> {
        let next = self.peek()?;
        self.at += 1;
        match next {
            b',' => Some(false),
            _ => (next == end).then_some(true),
        }
    }

    /// A string without escapes or control characters, as written.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let rest = &self.text.as_bytes()[self.at..];
        let length = plain_length(rest);
        if rest.get(length) != Some(&b'"') {
            return None;
        }
        let text = self.text.get(self.at..self.at + length)?;
        self.at += length + 1;
        Some(text)
    }

    /// A decimal as a JSON number or a string holding one, read by the one exact parser.
    fn decimal(&mut self) -> Option<Exact> {
        let text = if self.peek()? == b'"' {
            self.string()?
        } else {
            self.token(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        };
        parse_decimal(text).ok().map(Exact)
    }

    /// A year: a plain non-negative integer of up to nine digits (always an `i32`).
    fn year(&mut self) -> Option<i32> {
        self.peek()?;
        let digits = self.token(|b| b.is_ascii_digit());
        let canonical = digits == "0" || !digits.starts_with('0');
        if digits.is_empty() || digits.len() > 9 || !canonical {
            return None;
        }
        digits.parse().ok()
    }

    fn boolean(&mut self) -> Option<bool> {
        self.peek()?;
        match self.token(|b| b.is_ascii_lowercase()) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// A `YYYY-MM-DD` date string.
    fn date(&mut self) -> Option<chrono::NaiveDate> {
        parse_iso_date(self.string()?)
    }

    /// A unit enum variant by its serde name, through serde's own matching.
    fn variant<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let name = self.string()?;
        T::deserialize(BorrowedStrDeserializer::<ValueError>::new(name)).ok()
    }

    /// The longest run of bytes from here that `part` accepts.
    fn token(&mut self, part: impl Fn(u8) -> bool) -> &'a str {
        let rest = &self.text.as_bytes()[self.at..];
        let length = rest.iter().position(|&b| !part(b)).unwrap_or(rest.len());
        let token = &self.text[self.at..self.at + length];
        self.at += length;
        token
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The next byte that is not JSON whitespace (most often the very next byte).
    fn peek(&mut self) -> Option<u8> {
        loop {
            let byte = *self.text.as_bytes().get(self.at)?;
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.at += 1;
        }
    }
}

/// How many bytes lead `bytes` before the first `"`, `\\` or control character: eight at a
/// time, since strings are most of a request's bytes.
fn plain_length(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH_BITS: u64 = ONES << 7;
    // The lowest byte of `word` below `n` (n ≤ 128) sets its high bit; bytes above it may
    // too, so only the lowest mark is exact, and the lowest is the one wanted.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH_BITS;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let marks = below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            | below(word, 0x20);
        if marks != 0 {
            return at + (marks.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = &bytes[at..];
    at + tail.iter().position(ends_plain).unwrap_or(tail.len())
}

/// Where a plain string stops: its closing quote, or what serde must read (an escape, or a
/// control character, which JSON forbids in strings).
fn ends_plain(byte: &u8) -> bool {
    matches!(byte, b'"' | b'\\' | 0..0x20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Choices drawn from bytes proptest generates (and shrinks); zeros once they run out.
    struct Tape<'t>(std::slice::Iter<'t, u8>);

    impl Tape<'_> {
        fn byte(&mut self) -> usize {
            usize::from(self.0.next().copied().unwrap_or(0))
        }

        fn chance(&mut self, in_32: usize) -> bool {
            self.byte() % 32 < in_32
        }

        fn pick<'x>(&mut self, options: &[&'x str]) -> &'x str {
            options[self.byte() % options.len()]
        }

        /// Mostly one of `usual`, sometimes one of `odd`.
        fn value(&mut self, usual: &[&str], odd: &[&str]) -> String {
            let options = if self.chance(30) { usual } else { odd };
            self.pick(options).to_string()
        }

        fn space(&mut self) -> &'static str {
            self.pick(&["", "", " ", "\n", " \t\r\n "])
        }
    }

    /// A key, how to write its value, and whether serde requires it.
    type Member<'m> = (&'m str, fn(&mut Tape) -> String, bool);

    /// An object of `members`, required ones nearly always there and the others half the
    /// time, in any order, now and then with a field twice, an unknown field or a `null`.
    fn object(t: &mut Tape, members: &[Member]) -> String {
        let mut chosen: Vec<(String, String)> = Vec::new();
        for (key, value, required) in members {
            if t.chance(if *required { 31 } else { 16 }) {
                chosen.push((format!("\"{key}\""), value(t)));
            }
        }
        if t.chance(1) && !chosen.is_empty() {
            let twice = chosen[t.byte() % chosen.len()].clone();
            chosen.push(twice);
        }
        if t.chance(1) {
            chosen.push(("\"unknown\"".into(), "1".into()));
        }
        if t.chance(1) && !chosen.is_empty() {
            let at = t.byte() % chosen.len();
            chosen[at].1 = "null".into();
        }
        for i in (1..chosen.len()).rev() {
            chosen.swap(i, t.byte() % (i + 1));
        }
        let members: Vec<String> = chosen
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}{k}{}:{}{v}{}",
                    t.space(),
                    t.space(),
                    t.space(),
                    t.space()
                )
            })
            .collect();
        format!("{{{}{}}}", members.join(","), t.space())
    }

    fn decimal(t: &mut Tape) -> String {
        let usual = &[
            "\"1250000\"",
            "1250000",
            "\"0.4523\"",
            "0.4523",
            "\"13650\"",
            "\"0\"",
            "-12.5",
            "\"1e3\"",
            "1E-2",
        ];
        let odd = &[
            "\"01\"",
            "01",
            "\"1.\"",
            "1e400",
            "\"0.0000000000001\"",
            "1000000000000000000",
            "\"\"",
            "true",
            "\"abc\"",
            "-0",
            "\"-0.00\"",
            "1.5x",
            "+1",
            "[]",
            "\"1\\u0030\"",
        ];
        t.value(usual, odd)
    }

    fn text(t: &mut Tape) -> String {
        let usual = &[
            "\"XZ-0001\"",
            "\"忻州某钢铁有限公司\"",
            "\"cn-sx-xinzhou\"",
            "\"2020-10\"",
        ];
        let odd = &[
            "\"a\\\"b\"",
            "\"\\u0041\"",
            "\"\"",
            "\" \"",
            "1",
            "\"tab\there\"",
            "\"cn\"",
            "{}",
        ];
        t.value(usual, odd)
    }

    fn date(t: &mut Tape) -> String {
        let usual = &["\"2020-10-01\"", "\"2020-10-31\"", "\"2019-06-30\""];
        let odd = &[
            "\"2020-02-30\"",
            "\"2020-1-05\"",
            "\"+2020-10-01\"",
            "\"20201001\"",
            "\"2020-10-01T00:00\"",
            "20201001",
            "\"99999-01-01\"",
            "\"2020-10-0a\"",
        ];
        t.value(usual, odd)
    }

    fn year(t: &mut Tape) -> String {
        let usual = &["2019", "2020"];
        let odd = &[
            "0",
            "-0",
            "-5",
            "2019.0",
            "1e3",
            "\"2019\"",
            "02019",
            "999999999",
            "9999999999",
            "2147483648",
            "2019 ",
        ];
        t.value(usual, odd)
    }

    fn boolean(t: &mut Tape) -> String {
        t.value(
            &["true", "false"],
            &["\"true\"", "1", "tru", "True", "truex", "null"],
        )
    }

    fn industry(t: &mut Tape) -> String {
        let usual = &[
            "\"steel\"",
            "\"cement\"",
            "\"electrolytic_aluminum\"",
            "\"other\"",
            "\"calcium_carbide\"",
        ];
        t.value(
            usual,
            &["\"Steel\"", "\"steel \"", "\"stee\\u006c\"", "\"\"", "3"],
        )
    }

    fn class(t: &mut Tape) -> String {
        let usual = &[
            "\"restricted\"",
            "\"eliminated\"",
            "\"permitted\"",
            "\"encouraged\"",
        ];
        t.value(usual, &["\"forbidden\"", "\"Restricted\""])
    }

    fn card(t: &mut Tape) -> String {
        t.value(&["\"none\"", "\"yellow\"", "\"red\""], &["\"green\""])
    }

    fn process_name(t: &mut Tape) -> String {
        let usual = &[
            "\"blast_furnace\"",
            "\"converter\"",
            "\"electric_arc_furnace\"",
            "\"sintering\"",
        ];
        t.value(usual, &["\"furnace\""])
    }

    fn grade(t: &mut Tape) -> String {
        t.value(&["\"ordinary\"", "\"special\""], &["\"best\""])
    }

    fn plant(t: &mut Tape) -> String {
        t.value(&["\"clinker\"", "\"grinding\""], &["\"kiln\""])
    }

    fn process(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("process", process_name, true),
                ("grade", grade, false),
                ("intensity", decimal, true),
            ],
        )
    }

    fn processes(t: &mut Tape) -> String {
        if t.chance(2) {
            return t.pick(&["[]", "{}", "[1]", "[ ]"]).to_string();
        }
        let items: Vec<String> = (0..t.byte() % 4).map(|_| process(t)).collect();
        format!("[{}{}]", items.join(&format!(",{}", t.space())), t.space())
    }

    fn period(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("start", date, false),
                ("end", date, false),
                ("month", text, false),
            ],
        )
    }

    fn enterprise(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("id", text, true),
                ("name", text, false),
                ("industry", industry, true),
                ("catalogue_class", class, false),
                ("capacity_cut_overdue", boolean, false),
                ("card", card, false),
            ],
        )
    }

    fn cement(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("plant", plant, true),
                ("commissioned", date, false),
                ("kwh_per_t", decimal, true),
            ],
        )
    }

    fn intensity(t: &mut Tape) -> String {
        object(t, &[("value", decimal, true), ("limit", decimal, true)])
    }

    fn assessment(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("year", year, false),
                ("steel_processes", processes, false),
                ("cement", cement, false),
                ("aluminum_kwh_per_t", decimal, false),
                ("energy_intensity", intensity, false),
            ],
        )
    }

    fn electricity(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("kwh", decimal, true),
                ("base_price", decimal, false),
                ("self_generated_kwh", decimal, false),
            ],
        )
    }

    fn water(t: &mut Tape) -> String {
        object(
            t,
            &[
                ("m3", decimal, true),
                ("quota_m3", decimal, false),
                ("base_price", decimal, false),
                ("meets_standard", boolean, false),
            ],
        )
    }

    fn request(t: &mut Tape) -> String {
        let body = object(
            t,
            &[
                ("tariff", text, false),
                ("period", period, true),
                ("enterprise", enterprise, true),
                ("assessment", assessment, false),
                ("electricity", electricity, true),
                ("water", water, false),
            ],
        );
        let tail = if t.chance(31) {
            t.space()
        } else {
            t.pick(&["}", ",", "x"])
        };
        format!("{}{body}{tail}", t.space())
    }

    proptest! {
        #[test]
        fn plain_length_stops_where_a_byte_loop_stops(bytes in prop::collection::vec(prop::sample::select(vec![b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0]), 0..40)) {
            let slow = bytes.iter().position(ends_plain).unwrap_or(bytes.len());
            prop_assert_eq!(plain_length(&bytes), slow);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn what_the_reader_reads_serde_reads_the_same(tape in prop::collection::vec(any::<u8>(), 0..1200)) {
            let text = request(&mut Tape(tape.iter()));
            if let Some(body) = read(&text) {
                let serde: Result<BillRequestBody, _> = serde_json::from_str(&text);
                prop_assert_eq!(serde.ok(), Some(body), "{}", text);
            }
        }
    }

    #[test]
    fn reads_the_usual_shapes() {
        let usual = [
            r#"{"tariff":"cn-sx-xinzhou","period":{"start":"2020-10-01","end":"2020-10-31"},"enterprise":{"id":"SYN-00000001","industry":"calcium_carbide","catalogue_class":"permitted"},"assessment":{"year":2019},"electricity":{"kwh":"11736411","base_price":"0.3996"}}"#,
            r#"{"period":{"month":"2020-10"},"enterprise":{"id":"A","name":"某钢铁","industry":"steel","capacity_cut_overdue":true,"card":"red"},"assessment":{"steel_processes":[{"process":"electric_arc_furnace","grade":"special","intensity":-1.5},{"process":"converter","intensity":"-10"}],"cement":{"plant":"clinker","commissioned":"2019-06-30","kwh_per_t":62},"aluminum_kwh_per_t":"13650","energy_intensity":{"value":"1.2","limit":"1"}},"electricity":{"kwh":1e3},"water":{"m3":"10","quota_m3":"8","base_price":"5.09","meets_standard":false}}"#,
            " { \"period\" : { \"month\" : \"2020-10\" } ,\n\t\"enterprise\":{\"id\":\"A\",\"industry\":\"other\"},\"electricity\":{\"kwh\":0},\"assessment\":{}}\r\n",
        ];
        for text in usual {
            let serde: BillRequestBody = serde_json::from_str(text).expect("valid");
            assert_eq!(read(text), Some(serde), "{text}");
        }
    }

    #[test]
    fn leaves_escapes_nulls_duplicates_and_unknown_fields_to_serde() {
        let base = r#""period":{"month":"2020-10"},"electricity":{"kwh":1}"#;
        for enterprise in [
            r#"{"id":"\u0041","industry":"steel"}"#,
            r#"{"id":"A","name":null,"industry":"steel"}"#,
            r#"{"id":"A","industry":"steel","industry":"steel"}"#,
            r#"{"id":"A","industry":"steel","colour":"red"}"#,
        ] {
            let text = format!(r#"{{{base},"enterprise":{enterprise}}}"#);
            assert_eq!(read(&text), None, "{text}");
        }
    }
}
