//! A CSV file of the layout written as a columnar one, every column text (an empty cell a
//! null): what an analyst's tool makes of a spreadsheet. For `gen-population`, the tests
//! and the benchmarks.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::Columnar;

/// Rows per record batch (and Parquet row group) written.
const ROWS_PER_BATCH: usize = 64 * 1024;

/// `csv` (a header line, then rows) as a `kind` file.
pub fn from_csv(csv: &[u8], kind: Columnar) -> Result<Vec<u8>, String> {
    let mut reader = csv::Reader::from_reader(csv);
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|name| Field::new(name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut writer = Writer::new(kind, schema.clone())?;
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        for (column, cell) in columns.iter_mut().zip(record.iter()) {
            column.push((!cell.is_empty()).then(|| cell.to_string()));
        }
        if columns[0].len() == ROWS_PER_BATCH {
            writer.write(batch(&schema, &mut columns)?)?;
        }
    }
    if !columns[0].is_empty() {
        writer.write(batch(&schema, &mut columns)?)?;
    }
    writer.finish()
}

enum Writer {
    Parquet(ArrowWriter<Vec<u8>>),
    Arrow(FileWriter<Vec<u8>>),
}

impl Writer {
    fn new(kind: Columnar, schema: SchemaRef) -> Result<Writer, String> {
        let error = |e: &dyn std::fmt::Display| e.to_string();
        Ok(match kind {
            Columnar::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                Writer::Parquet(
                    ArrowWriter::try_new(Vec::new(), schema, Some(properties))
                        .map_err(|e| error(&e))?,
                )
            }
            Columnar::Arrow => {
                Writer::Arrow(FileWriter::try_new(Vec::new(), &schema).map_err(|e| error(&e))?)
            }
        })
    }

    fn write(&mut self, batch: RecordBatch) -> Result<(), String> {
        match self {
            Writer::Parquet(writer) => writer.write(&batch).map_err(|e| e.to_string()),
            Writer::Arrow(writer) => writer.write(&batch).map_err(|e| e.to_string()),
        }
    }

    fn finish(self) -> Result<Vec<u8>, String> {
        match self {
            Writer::Parquet(writer) => writer.into_inner().map_err(|e| e.to_string()),
            Writer::Arrow(mut writer) => {
                writer.finish().map_err(|e| e.to_string())?;
                writer.into_inner().map_err(|e| e.to_string())
            }
        }
    }
}

/// The columns gathered so far as a batch of text columns, leaving them empty.
fn batch(schema: &SchemaRef, columns: &mut [Vec<Option<String>>]) -> Result<RecordBatch, String> {
    let arrays = columns
        .iter_mut()
        .map(|cells| Arc::new(StringArray::from(std::mem::take(cells))) as ArrayRef)
        .collect();
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())
}
