//! Any bytes, read as a client could send them (a JSON bill request, or a CSV batch row
//! under the full header), validated and priced with the bundled tariffs: nothing may panic.
//! The hand-written paths must agree with serde: the quick request reader with serde's
//! reading, the bill JSON writer with serde's bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tariffd::wire::json::parse_json;
use tariffd::wire::request::BillRequestBody;
use tariffd::wire::view::{BillResponse, Detail};
use tariffd::wire::csv::{input_header, row, Columns, Lang};
use tariffd::bill::{price, Options};
use tariffd::tariff::{load_dir, TariffSet};

fn tariffs() -> &'static TariffSet {
    static SET: OnceLock<TariffSet> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tariffs");
        TariffSet::new(load_dir(&dir).expect("bundled tariffs"), "cn-sx-xinzhou").unwrap()
    })
}

fn columns() -> &'static Columns {
    static COLUMNS: OnceLock<Columns> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let header = row(input_header(Lang::En));
        Columns::from_header(&header[..header.len() - 1]).expect("the documented header")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let body: Option<BillRequestBody> = if mode % 2 == 0 {
        let quick = BillRequestBody::from_json(bytes).ok();
        assert_eq!(quick, parse_json(bytes).ok(), "the quick reader disagrees with serde");
        quick
    } else {
        columns().parse(bytes).ok()
    };
    let Some(request) = body.and_then(|b| b.into_domain("").ok()) else {
        return;
    };
    let Some(tariff) = tariffs().resolve(request.tariff.as_deref()) else {
        return;
    };
    let trace = mode % 4 >= 2;
    if let Ok(bill) = price(tariff, &request, Options { trace }) {
        let detail = if trace { Detail::Full } else { Detail::Lines };
        let view = BillResponse::with_detail(&request, &bill, tariff, detail);
        let mut written = Vec::new();
        view.write_json(&mut written);
        assert_eq!(written, serde_json::to_vec(&view).expect("bills serialise"));
    }
});
