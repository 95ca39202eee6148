//! A population's members as a simulation holds them: each request packed (see
//! [`packed`](super::packed)) end to end in one buffer, beside what every comparison reads
//! of every member without unpacking it (its record, its group for the tables).

use std::ops::Range;

use super::packed;
use crate::bill::BillRequest;
use crate::enterprise::{CatalogueClass, Industry};

/// Where a member's sums go in a comparison's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub industry: Industry,
    pub catalogue_class: CatalogueClass,
    /// Priced under another class than its own (an overdue steel capacity cut).
    pub another_class: bool,
}

impl Group {
    pub fn of(request: &BillRequest) -> Group {
        let e = &request.enterprise;
        Group {
            industry: e.industry,
            catalogue_class: e.catalogue_class,
            another_class: e.priced_class() != e.catalogue_class,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    packed: Vec<u8>,
    /// Where each member's packed request ends in `packed`.
    ends: Vec<usize>,
    /// Each member's line in its input (see [`Population::members`](super::Population)).
    records: Vec<u64>,
    groups: Vec<Group>,
}

impl Members {
    /// Adds a member; `false` (nothing added) if its request cannot be packed.
    pub fn push(&mut self, record: u64, request: &BillRequest) -> bool {
        if packed::pack(request, &mut self.packed).is_none() {
            return false;
        }
        self.ends.push(self.packed.len());
        self.records.push(record);
        self.groups.push(Group::of(request));
        true
    }

    /// Adds every member of `more` after these.
    pub fn append(&mut self, more: Members) {
        let offset = self.packed.len();
        self.packed.extend_from_slice(&more.packed);
        self.ends.extend(more.ends.iter().map(|end| end + offset));
        self.records.extend(more.records);
        self.groups.extend(more.groups);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn record(&self, i: usize) -> u64 {
        self.records[i]
    }

    pub fn group(&self, i: usize) -> Group {
        self.groups[i]
    }

    /// Member `i`'s request, unpacked.
    pub fn request(&self, i: usize) -> BillRequest {
        let start = i.checked_sub(1).map_or(0, |before| self.ends[before]);
        packed::unpack(&self.packed[start..self.ends[i]]).expect("packed by `Members::push`")
    }

    /// The members in ranges of `size`, the units of parallel work.
    pub fn ranges(&self, size: usize) -> Vec<Range<usize>> {
        (0..self.len())
            .step_by(size)
            .map(|start| start..(start + size).min(self.len()))
            .collect()
    }

    pub fn shrink_to_fit(&mut self) {
        self.packed.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.records.shrink_to_fit();
        self.groups.shrink_to_fit();
    }

    /// Bytes they hold.
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.packed.capacity()
            + self.ends.capacity() * size_of::<usize>()
            + self.records.capacity() * size_of::<u64>()
            + self.groups.capacity() * size_of::<Group>()
    }
}
