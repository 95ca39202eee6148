//! Just enough of Thrift's compact protocol to read a Parquet page header's sizes and
//! encoding, so they can be checked against the budget before the parquet crate, which sizes
//! its buffers from them, reads the page. Every length is checked against the bytes there
//! are; nothing is allocated; nesting is capped.

/// Why a header could not be read.
pub type Bad = &'static str;

/// The parts of a page header the checks need (`parquet.thrift`'s `PageHeader`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    /// 0 data, 1 index, 2 dictionary, 3 data v2.
    pub kind: i32,
    pub uncompressed: i32,
    pub compressed: i32,
    /// Values in the page (rows, for a flat column), of whichever page header it has.
    pub values: i32,
    /// The values' encoding, of whichever of the three page headers the page has.
    pub encoding: Option<i32>,
    /// Data v2 only: the level bytes, stored before the values and never compressed.
    pub levels: i32,
    /// Data v2 only: whether the values are compressed (they are unless it says not).
    pub values_compressed: bool,
}

pub const DICTIONARY_PAGE: i32 = 2;
pub const DATA_PAGE_V2: i32 = 3;

/// Reads a page header from the start of `bytes`: the header and its length in bytes.
pub fn page_header(bytes: &[u8]) -> Result<(PageHeader, usize), Bad> {
    let mut reader = Reader { bytes, at: 0 };
    let mut header = PageHeader {
        values_compressed: true,
        ..PageHeader::default()
    };
    reader.fields(0, |reader, id, kind| match (id, kind) {
        (1, I32) => reader.i32().map(|v| header.kind = v),
        (2, I32) => reader.i32().map(|v| header.uncompressed = v),
        (3, I32) => reader.i32().map(|v| header.compressed = v),
        // data_page_header and dictionary_page_header: the encoding is field 2 of both.
        (5 | 7, STRUCT) => reader.fields(1, |reader, id, kind| match (id, kind) {
            (1, I32) => reader.i32().map(|v| header.values = v),
            (2, I32) => reader.i32().map(|v| header.encoding = Some(v)),
            _ => reader.skip(kind, 1),
        }),
        (8, STRUCT) => reader.fields(1, |reader, id, kind| match (id, kind) {
            (1, I32) => reader.i32().map(|v| header.values = v),
            (4, I32) => reader.i32().map(|v| header.encoding = Some(v)),
            (5 | 6, I32) => {
                let length = reader.i32()?;
                header.levels = header.levels.saturating_add(length.max(0));
                if length < 0 {
                    return Err("a negative level length");
                }
                Ok(())
            }
            (7, TRUE | FALSE) => {
                header.values_compressed = kind == TRUE;
                Ok(())
            }
            _ => reader.skip(kind, 1),
        }),
        _ => reader.skip(kind, 0),
    })?;
    Ok((header, reader.at))
}

/// How deep the groups of a Parquet footer's schema nest, read without recursing: the
/// schema is a flat list of elements, each naming how many children follow it. Every other
/// field of the footer is walked too, so that no struct nests deeper than `MOST_DEPTH`
/// before the parquet crate, which recurses on both, reads it.
pub fn schema_depth(footer: &[u8]) -> Result<usize, Bad> {
    let mut reader = Reader {
        bytes: footer,
        at: 0,
    };
    let mut children = Vec::new();
    reader.fields(0, |reader, id, kind| match (id, kind) {
        (2, LIST) => {
            let (size, element) = reader.list_head()?;
            if element != STRUCT {
                return Err("a schema that is not a list of elements");
            }
            reader.check_size(size)?;
            for _ in 0..size {
                let mut count = 0;
                reader.fields(1, |reader, id, kind| match (id, kind) {
                    (5, I32) => reader.i32().map(|n| count = n),
                    _ => reader.skip(kind, 2),
                })?;
                children.push(count);
            }
            Ok(())
        }
        _ => reader.skip(kind, 0),
    })?;
    // Each open group's children yet to come; the depth is how many groups are open.
    let (mut open, mut deepest) = (Vec::<i32>::new(), 0);
    for count in children {
        while open.last() == Some(&0) {
            open.pop();
        }
        if let Some(left) = open.last_mut() {
            *left -= 1;
        }
        if count > 0 {
            open.push(count);
            deepest = deepest.max(open.len());
        }
    }
    Ok(deepest)
}

const TRUE: u8 = 1;
const FALSE: u8 = 2;
const I32: u8 = 5;
const LIST: u8 = 9;
const STRUCT: u8 = 12;
/// Deeper nesting than any page header or footer has is refused, not followed.
const MOST_DEPTH: u8 = 16;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Bad> {
        let byte = *self.bytes.get(self.at).ok_or("the header ends early")?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, Bad> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number longer than 64 bits")
    }

    fn i64(&mut self) -> Result<i64, Bad> {
        let n = self.varint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn i32(&mut self) -> Result<i32, Bad> {
        i32::try_from(self.i64()?).map_err(|_| "a 32-bit field out of range")
    }

    /// Moves past `n` bytes, if there are that many.
    fn advance(&mut self, n: u64) -> Result<(), Bad> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err("a length past the end of the header");
        }
        self.at += n as usize;
        Ok(())
    }

    /// Reads a struct's fields up to its stop, handing each field's id and type to `field`,
    /// which reads or skips its value.
    fn fields(
        &mut self,
        depth: u8,
        mut field: impl FnMut(&mut Self, i16, u8) -> Result<(), Bad>,
    ) -> Result<(), Bad> {
        if depth > MOST_DEPTH {
            return Err("structs nested too deep");
        }
        let mut id: i16 = 0;
        loop {
            let byte = self.byte()?;
            if byte == 0 {
                return Ok(());
            }
            let delta = i16::from(byte >> 4);
            id = if delta == 0 {
                i16::try_from(self.i64()?).map_err(|_| "a field id out of range")?
            } else {
                id.checked_add(delta).ok_or("a field id out of range")?
            };
            field(self, id, byte & 0x0f)?;
        }
    }

    /// Moves past one value of `kind`.
    fn skip(&mut self, kind: u8, depth: u8) -> Result<(), Bad> {
        if depth > MOST_DEPTH {
            return Err("values nested too deep");
        }
        match kind {
            TRUE | FALSE => Ok(()),
            3 => self.advance(1),
            4..=6 => self.varint().map(drop),
            7 => self.advance(8),
            8 => {
                let length = self.varint()?;
                self.advance(length)
            }
            LIST | 10 => {
                let (size, kind) = self.list_head()?;
                self.skip_many(size, kind, depth + 1)
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.check_size(size.saturating_mul(2))?;
                for _ in 0..size {
                    self.skip_element(kinds >> 4, depth + 1)?;
                    self.skip_element(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => self.fields(depth + 1, |reader, _, kind| reader.skip(kind, depth + 1)),
            _ => Err("an unknown Thrift type"),
        }
    }

    /// A list's (or set's) head: its size and the type of its elements.
    fn list_head(&mut self) -> Result<(u64, u8), Bad> {
        let head = self.byte()?;
        let size = match head >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        Ok((size, head & 0x0f))
    }

    /// Moves past `size` elements of `kind`.
    fn skip_many(&mut self, size: u64, kind: u8, depth: u8) -> Result<(), Bad> {
        self.check_size(size)?;
        for _ in 0..size {
            self.skip_element(kind, depth)?;
        }
        Ok(())
    }

    /// Every element of a collection takes a byte at least, so a size above the bytes left
    /// is refused before any is read.
    fn check_size(&self, size: u64) -> Result<(), Bad> {
        if size > (self.bytes.len() - self.at) as u64 {
            return Err("a collection longer than the header");
        }
        Ok(())
    }

    fn skip_element(&mut self, kind: u8, depth: u8) -> Result<(), Bad> {
        match kind {
            // A collection's booleans are a byte each.
            TRUE | FALSE => self.advance(1),
            _ => self.skip(kind, depth),
        }
    }
}
