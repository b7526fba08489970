//! Several raw capture files as one stream, by receive time: a k-way
//! merge, a heap over one cursor per file, so memory holds one record per
//! file whatever their sizes.
//!
//! **Order.** The record with the smallest `at_ns` comes first. A tie goes
//! to the file given first (its index in the list), and within a file,
//! records keep their file order — so the result is deterministic, and
//! the records of one connection (always in one file per period, in
//! order) stay in order. Within one recording ties cannot happen (`at_ns`
//! is unique per run, see `record/raw.rs`, *Order*); they can between
//! captures of different runs or machines.

use super::reader::{FileReport, RawFileReader, ReplayRecord};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The merge of several files. See the module docs.
#[derive(Debug)]
pub struct Merge {
    readers: Vec<RawFileReader>,
    /// Each file's next record, if any.
    heads: Vec<Option<ReplayRecord>>,
    /// `(at_ns, file)` of every file that has a next record.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
}

impl Merge {
    /// The merge of `readers`, in this order for ties.
    pub fn new(mut readers: Vec<RawFileReader>) -> Self {
        let mut heads = Vec::with_capacity(readers.len());
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (file, reader) in readers.iter_mut().enumerate() {
            let head = reader.next_record();
            if let Some(record) = &head {
                heap.push(Reverse((record.at_ns, file)));
            }
            heads.push(head);
        }
        Merge {
            readers,
            heads,
            heap,
        }
    }

    /// What each file held besides records (complete once the merge ended).
    pub fn reports(&self) -> Vec<FileReport> {
        self.readers.iter().map(|r| r.report().clone()).collect()
    }
}

impl Iterator for Merge {
    type Item = ReplayRecord;

    fn next(&mut self) -> Option<ReplayRecord> {
        let Reverse((_, file)) = self.heap.pop()?;
        let next = self.readers.get_mut(file)?.next_record();
        if let Some(record) = &next {
            self.heap.push(Reverse((record.at_ns, file)));
        }
        std::mem::replace(self.heads.get_mut(file)?, next)
    }
}
