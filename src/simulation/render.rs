//! A simulation report for people: a readable table, and one flat CSV table of every row.

use std::fmt::Write;

use super::report::{GroupReport, PointReport, Report};

/// One row of the comparison: a group, its enterprises, and money on both sides.
struct Row {
    section: &'static str,
    key: String,
    enterprises: Option<u64>,
    /// `[baseline, reform, delta]` of the surcharge and of the total.
    surcharge: [String; 3],
    total: [String; 3],
}

fn rows(report: &Report) -> Vec<Row> {
    let mut rows = vec![Row {
        section: "all",
        key: "all".into(),
        enterprises: Some(report.population.priced),
        surcharge: [&report.baseline, &report.reform, &report.delta]
            .map(|s| s.surcharge.to_string()),
        total: [&report.baseline, &report.reform, &report.delta].map(|s| s.total.to_string()),
    }];
    let group =
        |section,
         key: &String,
         pick: &dyn Fn(&super::report::SideReport) -> Option<&GroupReport>| {
            let sides = [&report.baseline, &report.reform, &report.delta].map(pick);
            let money = |f: fn(&GroupReport) -> String| sides.map(|g| g.map(f).unwrap_or_default());
            Row {
                section,
                key: key.clone(),
                enterprises: sides[0].map(|g| g.enterprises),
                surcharge: money(|g| g.surcharge.to_string()),
                total: money(|g| g.total.to_string()),
            }
        };
    for key in report.baseline.by_industry.keys() {
        rows.push(group("industry", key, &|s| s.by_industry.get(key)));
    }
    for key in report.baseline.by_catalogue_class.keys() {
        rows.push(group("catalogue_class", key, &|s| {
            s.by_catalogue_class.get(key)
        }));
    }
    for key in report.baseline.by_measure.keys() {
        let money = [&report.baseline, &report.reform, &report.delta]
            .map(|s| s.by_measure[key].to_string());
        rows.push(Row {
            section: "measure",
            key: key.clone(),
            enterprises: None,
            surcharge: money,
            total: Default::default(),
        });
    }
    for e in &report.enterprises {
        rows.push(Row {
            section: "enterprise",
            key: e.enterprise_id.clone(),
            enterprises: None,
            surcharge: [
                e.baseline.surcharge.to_string(),
                e.reform.surcharge.to_string(),
                (e.reform.surcharge - e.baseline.surcharge).to_string(),
            ],
            total: [
                e.baseline.total.to_string(),
                e.reform.total.to_string(),
                e.delta.to_string(),
            ],
        });
    }
    let points = report.sweep.iter().flat_map(|s| &s.points);
    let goal = report.goal.iter().map(|g| &g.result);
    rows.extend(points.map(|p| point_row("sweep", p)));
    rows.extend(goal.map(|p| point_row("goal", p)));
    rows
}

fn point_row(section: &'static str, p: &PointReport) -> Row {
    Row {
        section,
        key: p.value.to_string(),
        enterprises: None,
        surcharge: [
            (p.surcharge - p.delta_surcharge).to_string(),
            p.surcharge.to_string(),
            p.delta_surcharge.to_string(),
        ],
        total: [
            (p.total - p.delta_total).to_string(),
            p.total.to_string(),
            p.delta_total.to_string(),
        ],
    }
}

pub const CSV_HEADER: [&str; 9] = [
    "section",
    "key",
    "enterprises",
    "baseline_surcharge",
    "reform_surcharge",
    "delta_surcharge",
    "baseline_total",
    "reform_total",
    "delta_total",
];

/// Every row of the report as CSV (sections: all, industry, catalogue_class, measure,
/// enterprise, sweep, goal).
pub fn csv(report: &Report) -> Vec<u8> {
    let mut out = crate::wire::csv::row(CSV_HEADER);
    for r in rows(report) {
        let enterprises = r.enterprises.map(|n| n.to_string()).unwrap_or_default();
        let cells = [r.section.to_string(), r.key, enterprises]
            .into_iter()
            .chain(r.surcharge)
            .chain(r.total);
        out.extend(crate::wire::csv::inert_row(cells));
    }
    out
}

/// The report as a table for a terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let p = &report.population;
    let _ = writeln!(
        out,
        "Reform \"{}\" of {} ({}) over {} enterprises ({} records, {} excluded)\n",
        report.scenario.name,
        report.tariff.id,
        report.tariff.digest,
        p.priced,
        p.records,
        p.excluded
    );
    let _ = writeln!(
        out,
        "{:<16} {:<24} {:>8} {:>18} {:>18} {:>18}",
        "", "surcharge, yuan", "", "baseline", "reform", "delta"
    );
    for r in rows(report) {
        let n = r.enterprises.map(|n| n.to_string()).unwrap_or_default();
        let [b, f, d] = &r.surcharge;
        let _ = writeln!(
            out,
            "{:<16} {:<24} {n:>8} {b:>18} {f:>18} {d:>18}",
            r.section, r.key
        );
    }
    let c = &report.changes;
    let _ = writeln!(
        out,
        "\n{} pay more, {} less, {} the same; {} change tier, {} change measure",
        c.more, c.less, c.same, c.tier_changed, c.measure_changed
    );
    if let Some(g) = &report.goal {
        let _ = writeln!(
            out,
            "goal: {} = {} changes the {} by {} (target {}{})",
            g.parameter,
            g.value,
            g.metric.as_str(),
            g.achieved,
            g.target,
            if g.exact { ", exact" } else { "" }
        );
    }
    for e in &p.examples {
        let _ = writeln!(out, "excluded record {}: {}", e.record, e.message);
    }
    out
}
