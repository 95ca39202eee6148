//! Columnar files read as the CSV layout, and hostile ones refused before they are decoded.

use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::{Compression, Encoding, ZstdLevel};
use ::parquet::file::properties::{WriterProperties, WriterVersion};
use ::parquet::schema::types::ColumnPath;
use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, ListArray,
    RecordBatch, StringArray,
};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use proptest::prelude::*;

use super::*;

const LIMITS: Limits = Limits {
    max_line_bytes: 1000,
    max_lines: 1_000_000,
    max_file_bytes: 64 << 20,
    max_decoded_bytes: 1 << 30,
};

/// A batch of the CSV layout's columns in the types analysts' tools write.
fn accounts(n: usize) -> RecordBatch {
    let mut industry = StringDictionaryBuilder::<Int32Type>::new();
    for i in 0..n {
        industry.append_value(["steel", "cement"][i % 2]);
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "enterprise_id",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("E{i:05}")),
            )),
        ),
        ("industry", Arc::new(industry.finish())),
        (
            "enterprise_name",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i % 3 != 0).then(|| format!("厂, \"{i}\""))),
            )),
        ),
        (
            "kwh",
            Arc::new(
                Decimal128Array::from_iter_values((0..n).map(|i| i as i128 * 1000 + 5))
                    .with_precision_and_scale(18, 3)
                    .unwrap(),
            ),
        ),
        (
            "water_m3",
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 + 0.25),
            )),
        ),
        (
            "assessment_year",
            Arc::new(Int32Array::from_iter_values((0..n).map(|_| 2020))),
        ),
        (
            "capacity_cut_overdue",
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
        ),
        (
            "period_start",
            Arc::new(Date32Array::from_iter_values((0..n).map(|_| 18536))),
        ),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

/// The CSV lines the batch stands for.
fn expected(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = if i % 3 != 0 {
                format!("\"厂, \"\"{i}\"\"\"")
            } else {
                String::new()
            };
            format!(
                "E{i:05},{},{name},{}.005,{},2020,{},2020-10-01",
                ["steel", "cement"][i % 2],
                i,
                i as f64 + 0.25,
                i % 2 == 0
            )
        })
        .collect()
}

const HEADER: &str = "enterprise_id,industry,enterprise_name,kwh,water_m3,assessment_year,capacity_cut_overdue,period_start";

fn parquet_file(batch: &RecordBatch, properties: WriterProperties) -> Bytes {
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(properties)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    file.into()
}

fn arrow_file(batch: &RecordBatch) -> Bytes {
    let mut file = Vec::new();
    let mut writer = FileWriter::try_new(&mut file, &batch.schema()).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    file.into()
}

fn arrow_stream(batch: &RecordBatch) -> Bytes {
    let mut file = Vec::new();
    let mut writer = StreamWriter::try_new(&mut file, &batch.schema()).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    file.into()
}

/// Every record a file yields, read to its end.
fn read_all(
    kind: Columnar,
    file: Bytes,
    limits: Limits,
) -> Result<(String, Vec<Record>), ApiError> {
    let (header, mut rows) = open(kind, file, limits)?;
    let mut records = Vec::new();
    while rows.read(&mut records)? {}
    Ok((String::from_utf8(header).unwrap(), records))
}

fn lines(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r {
            Record::Line { text, .. } => String::from_utf8(text.to_vec()).unwrap(),
            other => format!("{other:?}"),
        })
        .collect()
}

fn properties(codec: Compression, version: WriterVersion) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(codec)
        .set_writer_version(version)
        .set_data_page_size_limit(4096)
        .set_max_row_group_row_count(Some(700))
        .build()
}

#[test]
fn a_parquet_file_is_read_as_the_csv_lines_it_stands_for_with_every_accepted_codec() {
    let n = 2000;
    let codecs = [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::ZSTD(ZstdLevel::default()),
        Compression::LZ4_RAW,
    ];
    for codec in codecs {
        for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
            let file = parquet_file(&accounts(n), properties(codec, version));
            let (header, records) = read_all(Columnar::Parquet, file, LIMITS).unwrap();
            assert_eq!(header, HEADER);
            assert_eq!(lines(&records), expected(n), "{codec:?} {version:?}");
            let numbers: Vec<u64> = records.iter().map(Record::line).collect();
            assert_eq!(numbers, (2..n as u64 + 2).collect::<Vec<_>>());
        }
    }
}

#[test]
fn an_arrow_file_or_stream_is_read_as_the_csv_lines_it_stands_for() {
    for file in [arrow_file(&accounts(300)), arrow_stream(&accounts(300))] {
        let (header, records) = read_all(Columnar::Arrow, file, LIMITS).unwrap();
        assert_eq!(header, HEADER);
        assert_eq!(lines(&records), expected(300));
    }
}

#[test]
fn rows_past_the_limit_are_one_over_limit_record_and_long_rows_are_reported() {
    let limits = Limits {
        max_lines: 10,
        ..LIMITS
    };
    let (_, records) = read_all(Columnar::Arrow, arrow_file(&accounts(50)), limits).unwrap();
    assert_eq!(records.len(), 11);
    assert_eq!(
        records[10],
        Record::OverLimit {
            line: 12,
            max_lines: 10
        }
    );
    let narrow = Limits {
        max_line_bytes: 45,
        ..LIMITS
    };
    let (_, records) = read_all(Columnar::Arrow, arrow_file(&accounts(3)), narrow).unwrap();
    assert!(matches!(records[1], Record::TooLong { line: 3, length } if length > 45));
    assert!(
        matches!(records[0], Record::Line { line: 2, .. }),
        "{records:?}"
    );
}

#[test]
fn a_file_inflating_past_the_budget_is_refused_before_it_is_decoded() {
    // Two million equal values: a few kilobytes compressed, megabytes inflated.
    let n = 2_000_000;
    let batch = RecordBatch::try_from_iter([(
        "water_m3",
        Arc::new(Int32Array::from_iter_values((0..n).map(|_| 7))) as ArrayRef,
    )])
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .set_column_encoding(ColumnPath::from("water_m3"), Encoding::PLAIN)
        .build();
    let file = parquet_file(&batch, props);
    assert!(file.len() < 100_000, "{}", file.len());
    let tight = Limits {
        max_file_bytes: 1 << 20,
        max_decoded_bytes: 1 << 30,
        ..LIMITS
    };
    let error = read_all(Columnar::Parquet, file, tight).unwrap_err();
    assert!(
        error.one_line().contains("inflated"),
        "{}",
        error.one_line()
    );
}

#[test]
fn a_page_claiming_another_size_than_it_inflates_to_is_refused() {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .build();
    let batch = RecordBatch::try_from_iter([(
        "water_m3",
        Arc::new(Int32Array::from_iter_values(0..2000)) as ArrayRef,
    )])
    .unwrap();
    let file = parquet_file(&batch, props).to_vec();
    // The first page header opens the file after the magic: type, then the inflated size.
    let (header, _) = thrift::page_header(&file[4..]).unwrap();
    assert_eq!(header.uncompressed, 8000);
    let size_at = 4 + 2 + 1; // field 1 (two bytes), then field 2's own header byte
    assert_eq!(file[size_at..size_at + 2], [0x80, 0x7d]); // zigzag(8000) as a varint
    let mut lying = file.clone();
    lying[size_at] = 0x82; // 8001
    let error = read_all(Columnar::Parquet, lying.into(), LIMITS).unwrap_err();
    assert!(
        error.one_line().contains("stated size"),
        "{}",
        error.one_line()
    );
}

#[test]
fn codecs_encodings_and_types_that_cannot_be_bounded_or_used_are_refused_by_column() {
    let lz4_frame = parquet_file(
        &accounts(10),
        WriterProperties::builder()
            .set_compression(Compression::LZ4)
            .build(),
    );
    let error = read_all(Columnar::Parquet, lz4_frame, LIMITS).unwrap_err();
    assert!(error.one_line().contains("LZ4"), "{}", error.one_line());

    let delta = parquet_file(
        &accounts(10),
        WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_column_encoding(
                ColumnPath::from("enterprise_id"),
                Encoding::DELTA_BYTE_ARRAY,
            )
            .build(),
    );
    let error = read_all(Columnar::Parquet, delta, LIMITS).unwrap_err();
    assert!(
        error
            .one_line()
            .contains("`enterprise_id` uses DELTA_BYTE_ARRAY"),
        "{}",
        error.one_line()
    );

    let list = ListArray::from_iter_primitive::<Int32Type, _, _>([Some(vec![Some(1)])]);
    let nested =
        RecordBatch::try_from_iter([("steel_processes", Arc::new(list) as ArrayRef)]).unwrap();
    for (kind, file) in [
        (
            Columnar::Parquet,
            parquet_file(&nested, WriterProperties::default()),
        ),
        (Columnar::Arrow, arrow_file(&nested)),
    ] {
        let error = read_all(kind, file, LIMITS).unwrap_err();
        assert!(
            error.one_line().contains("steel_processes"),
            "{}",
            error.one_line()
        );
    }
}

#[test]
fn a_long_dictionary_value_shrinks_the_batches_so_repeating_it_stays_bounded() {
    let long = "x".repeat(1 << 20);
    let mut values = StringDictionaryBuilder::<Int32Type>::new();
    for _ in 0..100 {
        values.append_value(&long);
    }
    let batch =
        RecordBatch::try_from_iter([("enterprise_name", Arc::new(values.finish()) as ArrayRef)])
            .unwrap();
    let file = parquet_file(&batch, WriterProperties::default());
    assert!(file.len() < (2 << 20));
    let (_, records) = read_all(Columnar::Parquet, file, LIMITS).unwrap();
    assert_eq!(records.len(), 100);
    assert!(records.iter().all(|r| matches!(r, Record::TooLong { .. })));
    assert_eq!(batch_rows(1 << 20), 16);
}

#[test]
fn files_that_are_not_what_they_say_are_refused_with_a_problem() {
    for (kind, file) in [
        (Columnar::Parquet, Bytes::from_static(b"PAR1 nothing PAR1")),
        (Columnar::Arrow, Bytes::from_static(b"ARROW1\0\0ARROW1")),
        (
            Columnar::Arrow,
            Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x70]),
        ),
    ] {
        assert!(read_all(kind, file, LIMITS).is_err());
    }
}

#[test]
fn a_page_header_cannot_claim_more_than_it_holds_or_nest_without_end() {
    // Field 5 (struct) holding field 5 (binary) that claims a terabyte.
    let huge = [0x5c, 0x58, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00, 0x00];
    assert!(thrift::page_header(&huge).is_err());
    // Lists of lists of lists…
    let deep: Vec<u8> = std::iter::once(0x19)
        .chain(std::iter::repeat_n(0x19, 10_000))
        .collect();
    assert_eq!(
        thrift::page_header(&deep).unwrap_err(),
        "values nested too deep"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever bytes of a real file are changed, reading it ends in rows or a problem.
    #[test]
    fn a_damaged_file_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        arrow in any::<bool>(),
    ) {
        let (kind, file) = if arrow {
            (Columnar::Arrow, arrow_file(&accounts(40)))
        } else {
            let codec = Compression::SNAPPY;
            (Columnar::Parquet, parquet_file(&accounts(40), properties(codec, WriterVersion::PARQUET_2_0)))
        };
        let mut file = file.to_vec();
        for (at, byte) in flips {
            let at = at.index(file.len());
            file[at] = byte;
        }
        let _ = read_all(kind, file.into(), LIMITS);
    }
}
