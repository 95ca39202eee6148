//! The bill table a CSV batch writes back, fit to open in Excel: one row per input record
//! (who, how much electricity and water, each measure's applied rate beside its amount, the
//! totals), then a summary row holding every numeric column's sum. Failed rows keep the
//! enterprise id. Headers in English or Chinese; a UTF-8 byte-order mark on request.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{inert, push_cell, Lang, BOM};
use crate::bill::{Bill, BillId, BillRequest, LineKind};
use crate::measure::combination::Status;
use crate::measure::Measure;
use crate::money::zero_money;
use crate::wire::problem::Problem;
use crate::wire::view::{bare_decimal, warning_code};

/// How the table is written: header language and byte-order mark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Table {
    pub lang: Lang,
    /// Start with the UTF-8 byte-order mark, so Excel reads the file as UTF-8.
    pub bom: bool,
}

/// The output columns, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Line,
    Status,
    EnterpriseId,
    EnterpriseName,
    Industry,
    BillId,
    Tariff,
    PeriodStart,
    PeriodEnd,
    Kwh,
    WaterM3,
    DifferentialRate,
    Differential,
    TieredRate,
    Tiered,
    PunitiveRate,
    Punitive,
    WaterProgressiveRate,
    WaterProgressive,
    ElectricitySurcharge,
    WaterSurcharge,
    Surcharge,
    Base,
    Total,
    Warnings,
    Error,
    Through,
    Lines,
    Billed,
    Failed,
}

/// Whether and how the summary row sums a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sum {
    No,
    /// Counts and quantities.
    Amount,
    /// Yuan, shown to the fen even over no rows.
    Money,
}

use Sum::{Amount, Money, No};

/// Each column's English and Chinese header, and how the summary row sums it.
const COLUMNS: [(Col, &str, &str, Sum); 30] = [
    (Col::Line, "line", "行号", No),
    (Col::Status, "status", "状态", No),
    (Col::EnterpriseId, "enterprise_id", "企业编号", No),
    (Col::EnterpriseName, "enterprise_name", "企业名称", No),
    (Col::Industry, "industry", "行业", No),
    (Col::BillId, "bill_id", "账单编号", No),
    (Col::Tariff, "tariff", "价目表", No),
    (Col::PeriodStart, "period_start", "起始日期", No),
    (Col::PeriodEnd, "period_end", "截止日期", No),
    (Col::Kwh, "kwh", "用电量(千瓦时)", Amount),
    (Col::WaterM3, "water_m3", "用水量(立方米)", Amount),
    (
        Col::DifferentialRate,
        "differential_rate",
        "差别电价加价标准(元/千瓦时)",
        No,
    ),
    (Col::Differential, "differential", "差别电价加价(元)", Money),
    (
        Col::TieredRate,
        "tiered_rate",
        "阶梯电价加价标准(元/千瓦时)",
        No,
    ),
    (Col::Tiered, "tiered", "阶梯电价加价(元)", Money),
    (
        Col::PunitiveRate,
        "punitive_rate",
        "惩罚性电价加价标准(元/千瓦时)",
        No,
    ),
    (Col::Punitive, "punitive", "惩罚性电价加价(元)", Money),
    (
        Col::WaterProgressiveRate,
        "water_progressive_rate",
        "超定额累进加价标准(元/立方米)",
        No,
    ),
    (
        Col::WaterProgressive,
        "water_progressive",
        "超定额累进加价(元)",
        Money,
    ),
    (
        Col::ElectricitySurcharge,
        "electricity_surcharge",
        "电费加价合计(元)",
        Money,
    ),
    (
        Col::WaterSurcharge,
        "water_surcharge",
        "水费加价合计(元)",
        Money,
    ),
    (Col::Surcharge, "surcharge", "加价合计(元)", Money),
    (Col::Base, "base", "基本电费水费(元)", Money),
    (Col::Total, "total", "应缴总额(元)", Money),
    (Col::Warnings, "warnings", "提示", No),
    (Col::Error, "error", "错误", No),
    (Col::Through, "through", "至行号", No),
    (Col::Lines, "lines", "行数", Amount),
    (Col::Billed, "billed", "已计费", Amount),
    (Col::Failed, "failed", "失败", Amount),
];

const WIDTH: usize = COLUMNS.len();

/// The status words of the `status` column.
const BILLED: (&str, &str) = ("billed", "已计费");
const VALID: (&str, &str) = ("valid", "有效");
const FAILED: (&str, &str) = ("failed", "失败");
const SUMMARY: (&str, &str) = ("summary", "合计");

/// The measures with a rate and an amount column each.
const MEASURES: [(Measure, Col, Col); 4] = [
    (
        Measure::Differential,
        Col::DifferentialRate,
        Col::Differential,
    ),
    (Measure::Tiered, Col::TieredRate, Col::Tiered),
    (Measure::Punitive, Col::PunitiveRate, Col::Punitive),
    (
        Measure::WaterProgressive,
        Col::WaterProgressiveRate,
        Col::WaterProgressive,
    ),
];

/// One cell before it is written.
#[derive(Debug, Clone, Default)]
enum Cell<'a> {
    #[default]
    Empty,
    Text(Cow<'a, str>),
    Number(Decimal),
    Count(u64),
    Date(NaiveDate),
    BillId(BillId),
}

/// A row being filled, column by column.
struct Row<'a>([Cell<'a>; WIDTH]);

impl<'a> Row<'a> {
    fn new() -> Row<'a> {
        Row(std::array::from_fn(|_| Cell::Empty))
    }

    fn text(&mut self, col: Col, text: impl Into<Cow<'a, str>>) -> &mut Self {
        self.0[col as usize] = Cell::Text(text.into());
        self
    }

    fn number(&mut self, col: Col, number: impl Into<Decimal>) -> &mut Self {
        self.0[col as usize] = Cell::Number(number.into());
        self
    }

    fn count(&mut self, col: Col, count: u64) -> &mut Self {
        self.cell(col, Cell::Count(count))
    }

    fn cell(&mut self, col: Col, cell: Cell<'a>) -> &mut Self {
        self.0[col as usize] = cell;
        self
    }

    /// The record's line, and how many records the row stands for, billed or failed.
    fn counts(&mut self, line: u64, lines: u64, billed: bool) -> &mut Self {
        self.count(Col::Line, line)
            .count(Col::Lines, lines)
            .count(Col::Billed, if billed { lines } else { 0 })
            .count(Col::Failed, if billed { 0 } else { lines })
    }

    /// Writes the row, adding its numbers to `sums`.
    fn write(&self, out: &mut Vec<u8>, sums: &mut Sums) {
        for (i, cell) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match cell {
                Cell::Empty => {}
                Cell::Text(text) => push_cell(out, &inert(text)),
                Cell::Number(n) => {
                    if COLUMNS[i].3 != No {
                        sums.0[i] += *n;
                    }
                    bare_decimal(out, *n);
                }
                Cell::Date(day) => match crate::period::write_iso_date(*day) {
                    Some(text) => out.extend_from_slice(&text),
                    None => out.extend_from_slice(day.to_string().as_bytes()),
                },
                Cell::BillId(id) => out.extend_from_slice(&id.text()),
                Cell::Count(n) => {
                    if COLUMNS[i].3 != No {
                        sums.0[i] += Decimal::from(*n);
                    }
                    out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                }
            }
        }
        out.push(b'\n');
    }
}

/// Each summed column's total over the rows written so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sums([Decimal; WIDTH]);

impl Default for Sums {
    fn default() -> Sums {
        Sums(COLUMNS.map(|(_, _, _, sum)| match sum {
            Money => zero_money(),
            No | Amount => Decimal::ZERO,
        }))
    }
}

impl Sums {
    pub fn add(&mut self, other: &Sums) {
        for (sum, more) in self.0.iter_mut().zip(other.0) {
            // Sums beyond 10^26 do not arise from rows that each fit.
            *sum = sum.saturating_add(more);
        }
    }
}

impl Table {
    /// The byte-order mark if asked for, and the header line.
    pub fn header(&self) -> Vec<u8> {
        let mut out = if self.bom { BOM.to_vec() } else { Vec::new() };
        out.extend(super::row(
            COLUMNS.map(|(_, en, zh, _)| self.lang.pick((en, zh))),
        ));
        out
    }

    /// A priced bill's row. The amounts come from the bill's applied lines, so they are
    /// there at every detail level.
    pub fn bill_row<'a>(
        &self,
        out: &mut Vec<u8>,
        sums: &mut Sums,
        line: u64,
        request: &'a BillRequest,
        bill: &Bill,
        tariff: &'a str,
    ) {
        let mut row = Row::new();
        row.counts(line, 1, true)
            .text(Col::Status, self.lang.pick(BILLED))
            .text(Col::EnterpriseId, request.enterprise.id.as_str())
            .text(Col::Industry, request.enterprise.industry.as_str())
            .cell(Col::BillId, Cell::BillId(bill.id))
            .text(Col::Tariff, tariff)
            .cell(Col::PeriodStart, Cell::Date(request.period.start()))
            .cell(Col::PeriodEnd, Cell::Date(request.period.end()))
            .number(Col::Kwh, request.electricity.kwh);
        if let Some(name) = &request.enterprise.name {
            row.text(Col::EnterpriseName, name.as_str());
        }
        if let Some(water) = &request.water {
            row.number(Col::WaterM3, water.m3);
        }
        for (measure, rate_col, amount_col) in MEASURES {
            let applied = || {
                bill.lines.iter().filter(move |l| {
                    l.kind == LineKind::Surcharge(measure) && l.status == Status::Applied
                })
            };
            if applied().next().is_none() {
                continue;
            }
            let mut amount: Decimal = applied().map(|l| l.amount).sum();
            amount.rescale(2);
            row.number(amount_col, amount);
            let mut rates: Vec<Decimal> = applied().map(|l| l.rate.normalize()).collect();
            rates.dedup();
            match rates.as_slice() {
                [rate] => row.number(rate_col, *rate),
                several => row.text(rate_col, join(several)),
            };
        }
        let t = &bill.totals;
        row.number(Col::ElectricitySurcharge, t.electricity_surcharge)
            .number(Col::WaterSurcharge, t.water_surcharge)
            .number(Col::Surcharge, t.surcharge)
            .number(Col::Base, t.base)
            .number(Col::Total, t.total);
        if !bill.warnings.is_empty() {
            row.text(Col::Warnings, join(bill.warnings.iter().map(warning_code)));
        }
        row.write(out, sums);
    }

    /// A record that is valid (with `validate_only`).
    pub fn valid_row(&self, out: &mut Vec<u8>, sums: &mut Sums, line: u64) {
        let mut row = Row::new();
        row.counts(line, 1, true)
            .text(Col::Status, self.lang.pick(VALID));
        row.write(out, sums);
    }

    /// The error of lines `line..=through` (one line when they are equal), with the
    /// enterprise id when the record named one.
    pub fn error_row(
        &self,
        out: &mut Vec<u8>,
        sums: &mut Sums,
        (line, through): (u64, u64),
        enterprise_id: Option<&str>,
        problem: &Problem,
    ) {
        let detail = match problem.errors.as_slice() {
            [] => problem.detail.clone(),
            errors => errors
                .iter()
                .map(|e| match (&e.column, &e.pointer) {
                    (Some(c), _) => format!("{c}: {}", e.message),
                    (None, Some(p)) => format!("{p}: {}", e.message),
                    (None, None) => e.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        };
        let mut row = Row::new();
        row.counts(line, through - line + 1, false)
            .text(Col::Status, self.lang.pick(FAILED))
            .text(Col::Error, detail);
        if through > line {
            row.count(Col::Through, through);
        }
        if let Some(id) = enterprise_id {
            row.text(Col::EnterpriseId, id);
        }
        row.write(out, sums);
    }

    /// The summary row: every summed column's total.
    pub fn summary_row(&self, sums: &Sums) -> Vec<u8> {
        let mut row = Row::new();
        row.text(Col::Line, self.lang.pick(SUMMARY))
            .text(Col::Status, self.lang.pick(SUMMARY));
        for (i, (_, _, _, sum)) in COLUMNS.iter().enumerate() {
            if *sum != No {
                row.0[i] = Cell::Number(sums.0[i]);
            }
        }
        let mut out = Vec::new();
        row.write(&mut out, &mut Sums::default());
        out
    }
}

fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut text = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            text.push(';');
        }
        write!(text, "{item}").expect("writing to a string does not fail");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::problem::{ApiError, FieldError};

    #[test]
    fn every_column_is_declared_in_order() {
        for (i, (col, _, _, _)) in COLUMNS.iter().enumerate() {
            assert_eq!(*col as usize, i, "{col:?}");
        }
    }

    #[test]
    fn failed_rows_carry_inert_text_and_the_enterprise_id() {
        let problem = ApiError::Invalid(vec![FieldError::note("=HYPERLINK(\"x\")")]).problem();
        let mut out = Vec::new();
        let mut sums = Sums::default();
        Table::default().error_row(&mut out, &mut sums, (7, 9), Some("E7"), &problem);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("7,failed,E7,"), "{text}");
        assert!(text.trim_end().ends_with(",9,3,0,3"), "{text}");
        assert!(!text.contains(",=") && !text.contains(",\"="), "{text}");
        assert_eq!(sums.0[Col::Failed as usize], Decimal::from(3));
    }

    #[test]
    fn headers_come_in_chinese_with_a_byte_order_mark_on_request() {
        let table = Table {
            lang: Lang::Zh,
            bom: true,
        };
        let header = String::from_utf8(table.header()).unwrap();
        assert!(
            header.starts_with("\u{feff}行号,状态,企业编号,"),
            "{header}"
        );
        assert!(Table::default()
            .header()
            .starts_with(b"line,status,enterprise_id,"));
    }
}
