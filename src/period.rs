//! Billing periods: inclusive date ranges split into day segments.

use chrono::{Datelike, NaiveDate};

/// `YYYY-MM-DD` exactly, read without chrono's general parser (every batch record has two
/// dates); `None` for anything else, which callers hand to chrono for its answer.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = text.as_bytes().try_into().ok()?;
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(number(&b[..4])? as i32, number(&b[5..7])?, number(&b[8..])?)
}

/// `YYYY-MM-DD` without going through `fmt`, for years 0 to 9999 (`None` for others, which
/// callers hand to chrono): every line item of a bill writes two dates.
pub fn write_iso_date(date: NaiveDate) -> Option<[u8; 10]> {
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let mut text = *b"0000-00-00";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, date.month());
    put(8, 2, date.day());
    Some(text)
}

/// An inclusive range of days, `start ≤ end` by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the period ends before it starts")]
pub struct EndBeforeStart;

impl Period {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period, EndBeforeStart> {
        if end < start {
            return Err(EndBeforeStart);
        }
        Ok(Period { start, end })
    }

    /// The whole calendar month.
    pub fn month(year: i32, month: u32) -> Option<Period> {
        let start = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Some(Period {
            start,
            end: next.pred_opt()?,
        })
    }

    /// `YYYY-MM`, as requests and the command line write a month.
    pub fn parse_month(text: &str) -> Option<Period> {
        let first = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
        (text.len() == 7)
            .then(|| Period::month(first.year(), first.month()))
            .flatten()
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    pub fn days(&self) -> u32 {
        days_between(self.start, self.end)
    }

    pub fn year(&self) -> i32 {
        self.start.year()
    }

    /// Splits the period at each date in `changes` (sorted) that falls strictly inside it;
    /// a change date is the first day of a new segment.
    pub fn split_at<'c>(&self, changes: &'c [NaiveDate]) -> Splits<'c> {
        let first = changes.partition_point(|d| *d <= self.start);
        let inside = changes[first..].partition_point(|d| *d <= self.end);
        Splits {
            next_start: Some(self.start),
            end: self.end,
            changes: &changes[first..first + inside],
        }
    }

    /// Joins two adjacent periods.
    pub fn join(&self, next: &Period) -> Period {
        Period {
            start: self.start,
            end: next.end,
        }
    }
}

/// Sorted distinct dates, which count how many fall on or before a day from a table, one
/// entry per day from the first date to the last, instead of searching: a bill counts four
/// times, and the searches were a twentieth of pricing it.
#[derive(Debug, Clone, Default)]
pub struct Dates {
    dates: Vec<NaiveDate>,
    /// The day (from the common era) of the first date.
    first_day: i32,
    /// For each day from the first date to the last, how many dates fall on or before it
    /// (none before the first, all after the last); empty where that would be too long:
    /// dates centuries apart are searched.
    through: Vec<u16>,
}

impl Dates {
    /// The longest table, in days: a century of a tariff's dates in 73 kB.
    const MAX_TABLE: usize = 36_600;

    pub fn new(mut dates: Vec<NaiveDate>) -> Dates {
        dates.sort_unstable();
        dates.dedup();
        let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
            return Dates::default();
        };
        let days = (*last - *first).num_days() as usize + 1;
        let through = if days <= Dates::MAX_TABLE && dates.len() <= usize::from(u16::MAX) {
            let mut count = 0;
            std::iter::successors(Some(*first), |d| d.succ_opt())
                .take(days)
                .map(|day| {
                    while dates.get(count).is_some_and(|d| *d <= day) {
                        count += 1;
                    }
                    count as u16
                })
                .collect()
        } else {
            Vec::new()
        };
        Dates {
            first_day: first.num_days_from_ce(),
            dates,
            through,
        }
    }

    /// How many of the dates fall on or before `date`.
    #[inline]
    pub fn through(&self, date: NaiveDate) -> usize {
        if self.through.is_empty() {
            return self.dates.partition_point(|d| *d <= date);
        }
        let day = i64::from(date.num_days_from_ce()) - i64::from(self.first_day);
        match usize::try_from(day) {
            Err(_) => 0,
            Ok(day) => self
                .through
                .get(day)
                .map_or(self.dates.len(), |count| usize::from(*count)),
        }
    }

    /// Splits `period` at each of the dates strictly inside it, as [`Period::split_at`].
    pub fn split(&self, period: Period) -> Splits<'_> {
        let (first, last) = (self.through(period.start), self.through(period.end));
        Splits {
            next_start: Some(period.start),
            end: period.end,
            changes: &self.dates[first..last],
        }
    }
}

impl std::ops::Deref for Dates {
    type Target = [NaiveDate];

    fn deref(&self) -> &[NaiveDate] {
        &self.dates
    }
}

/// The segments of a period split at change dates, in order.
pub struct Splits<'c> {
    next_start: Option<NaiveDate>,
    end: NaiveDate,
    /// The change dates still ahead, all strictly inside the period.
    changes: &'c [NaiveDate],
}

impl Splits<'_> {
    /// Whether the period is not split: one segment, the whole period.
    pub fn is_whole(&self) -> bool {
        self.changes.is_empty()
    }
}

impl Iterator for Splits<'_> {
    type Item = Period;

    fn next(&mut self) -> Option<Period> {
        let start = self.next_start.take()?;
        let Some((change, rest)) = self.changes.split_first() else {
            return Some(Period {
                start,
                end: self.end,
            });
        };
        self.changes = rest;
        self.next_start = Some(*change);
        // A change strictly after `start` has a day before it.
        let end = change.pred_opt().unwrap_or(start);
        Some(Period { start, end })
    }
}

/// Days from `start` to `end`, both included.
fn days_between(start: NaiveDate, end: NaiveDate) -> u32 {
    (end - start).num_days() as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Days within a few years of the dates, and far outside them; sets of dates close
        /// together, and centuries apart (searched, without a table).
        #[test]
        fn dates_count_as_a_search_counts(
            days in proptest::collection::vec(0i32..3_000, 0..12),
            far in proptest::option::of(40_000i32..100_000),
            asked in proptest::collection::vec(-1_000i32..110_000, 1..20),
        ) {
            let day = |d: i32| NaiveDate::from_num_days_from_ce_opt(730_000 + d).unwrap();
            let mut given: Vec<NaiveDate> = days.iter().copied().chain(far).map(day).collect();
            let dates = Dates::new(given.clone());
            given.sort_unstable();
            given.dedup();
            proptest::prop_assert_eq!(&*dates, &given[..]);
            for date in asked.into_iter().map(day) {
                let searched = given.partition_point(|d| *d <= date);
                proptest::prop_assert_eq!(dates.through(date), searched, "{}", date);
                let period = Period::new(date, date + chrono::Days::new(40)).unwrap();
                proptest::prop_assert_eq!(
                    dates.split(period).collect::<Vec<_>>(),
                    period.split_at(&given).collect::<Vec<_>>()
                );
            }
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn iso_dates_read_as_chrono_reads_them_or_are_left_to_chrono() {
        for text in ["2020-10-01", "0001-01-01", "9999-12-31", "2024-02-29"] {
            assert_eq!(parse_iso_date(text), Some(date(text)), "{text}");
        }
        for text in [
            "2023-02-29",
            "2020-13-01",
            "2020-00-10",
            "2020-1-01",
            "2020/10/01",
            "+2020-10-01",
            "2020-10-01 ",
            "２０２０-10-01",
            "",
            "20201001",
        ] {
            assert_eq!(parse_iso_date(text), None, "{text}");
        }
    }

    #[test]
    fn a_month_covers_every_day() {
        let feb = Period::month(2020, 2).unwrap();
        assert_eq!(
            (feb.start(), feb.end(), feb.days()),
            (date("2020-02-01"), date("2020-02-29"), 29)
        );
        assert_eq!(Period::month(2020, 12).unwrap().end(), date("2020-12-31"));
        assert!(Period::month(2020, 13).is_none());
        assert_eq!(Period::parse_month("2020-02"), Period::month(2020, 2));
        for bad in ["2020-13", "2020-2", "2020-02-01", "20-02", ""] {
            assert!(Period::parse_month(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn end_before_start_is_rejected() {
        assert_eq!(
            Period::new(date("2020-02-02"), date("2020-02-01")),
            Err(EndBeforeStart)
        );
    }

    #[test]
    fn splits_only_at_changes_inside_the_period() {
        let p = Period::new(date("2016-12-15"), date("2017-01-14")).unwrap();
        let parts: Vec<Period> = p
            .split_at(&[
                date("2010-06-01"),
                date("2016-12-15"),
                date("2017-01-01"),
                date("2022-01-01"),
            ])
            .collect();
        let days: Vec<u32> = parts.iter().map(Period::days).collect();
        assert_eq!(days, vec![17, 14]);
        assert_eq!(parts[1].start(), date("2017-01-01"));
    }

    #[test]
    fn a_change_on_the_last_day_makes_a_one_day_segment() {
        let p = Period::new(date("2020-01-01"), date("2020-01-31")).unwrap();
        let days: Vec<u32> = p
            .split_at(&[date("2020-01-31")])
            .map(|p| p.days())
            .collect();
        assert_eq!(days, vec![30, 1]);
    }
}
