//! The policy form before placements: one field per lock decision a kernel function asked
//! about (`fault_lock_whole_fault = true`, `page_create_lock = "range_lock"`, ...). Traces
//! recorded before placements carry their policy in this form, and users' policy files (and
//! scenario `[[policy]]` variants) may still be written in it; both are translated here into
//! the placements that mean the same, so there is one meaning for every field.
//!
//! Each field owns a *slot*: the placements of some locks in some functions. Setting the field
//! on a base policy replaces that slot and nothing else.

use crate::placement::{Func, LockName, Mode, Placement, Point, RangeSpec};
use serde::{Deserialize, Serialize};

/// Which lock, if any, guards the creation of a page-cache page (read fault, read(2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageCreateLock {
    None,
    /// The range lock on the index, exclusive, while the page is created and read (Kara).
    RangeLock,
    /// The fault lock, shared, around page creation only (`invalidate_lock`).
    FaultLockShared,
}

/// How write(2) takes the range lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteRangeLock {
    None,
    /// Per page in `write_begin`, after the user buffer was faulted in (Kara's design, forced
    /// by the lock order `mmap_sem > range lock`).
    PerPage,
    /// Over the whole syscall range, across the user copy: deadlocks against a fault on the
    /// buffer when the buffer maps the same range.
    WholeSyscall,
}

/// What truncate, punch hole and collapse range hold across page-cache eviction and block
/// freeing, besides `i_rwsem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidationLock {
    None,
    /// The fault lock, exclusive (`i_mmap_sem`, `MMAPLOCK`, `invalidate_lock`).
    FaultLockExclusive,
    /// The range lock over the affected range.
    RangeLock,
}

/// What a DAX fault holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaxFaultLock {
    /// `i_mmap_lock` shared around the `i_size` check and the PTE insertion only (4.0-4.4
    /// `dax_insert_mapping`); `get_block` runs unlocked before it.
    IMmapShared,
    /// The fault lock, shared, across the whole fault.
    FaultLockShared,
    /// The range lock on the index, exclusive, across the whole fault.
    RangeLockExclusive,
    /// The fault lock shared plus the per-index DAX entry lock, across the whole fault.
    FaultLockSharedAndEntryLock,
}

/// Every field of the form before placements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OldLockFields {
    pub fault_lock_whole_fault: bool,
    pub page_create_lock: PageCreateLock,
    pub mkwrite_fault_lock: bool,
    pub mkwrite_range_lock: bool,
    pub write_range_lock: WriteRangeLock,
    pub write_i_rwsem: bool,
    pub invalidation_lock: InvalidationLock,
    pub collapse_lock_to_eof: bool,
    pub dax_fault_lock: DaxFaultLock,
    pub wait_for_dio: bool,
    pub dio_read_i_rwsem: bool,
    pub dio_range_lock: bool,
}

/// The fields of the form before placements that a serialised policy gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptionalOldLockFields {
    pub fault_lock_whole_fault: Option<bool>,
    pub page_create_lock: Option<PageCreateLock>,
    pub mkwrite_fault_lock: Option<bool>,
    pub mkwrite_range_lock: Option<bool>,
    pub write_range_lock: Option<WriteRangeLock>,
    pub write_i_rwsem: Option<bool>,
    pub invalidation_lock: Option<InvalidationLock>,
    pub collapse_lock_to_eof: Option<bool>,
    pub dax_fault_lock: Option<DaxFaultLock>,
    pub wait_for_dio: Option<bool>,
    pub dio_read_i_rwsem: Option<bool>,
    pub dio_range_lock: Option<bool>,
}

impl OptionalOldLockFields {
    pub fn complete(&self) -> Option<OldLockFields> {
        Some(OldLockFields {
            fault_lock_whole_fault: self.fault_lock_whole_fault?,
            page_create_lock: self.page_create_lock?,
            mkwrite_fault_lock: self.mkwrite_fault_lock?,
            mkwrite_range_lock: self.mkwrite_range_lock?,
            write_range_lock: self.write_range_lock?,
            write_i_rwsem: self.write_i_rwsem?,
            invalidation_lock: self.invalidation_lock?,
            collapse_lock_to_eof: self.collapse_lock_to_eof?,
            dax_fault_lock: self.dax_fault_lock?,
            wait_for_dio: self.wait_for_dio?,
            dio_read_i_rwsem: self.dio_read_i_rwsem?,
            dio_range_lock: self.dio_range_lock?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }

    pub fn given(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.fault_lock_whole_fault.is_some() {
            v.push("fault_lock_whole_fault");
        }
        if self.page_create_lock.is_some() {
            v.push("page_create_lock");
        }
        if self.mkwrite_fault_lock.is_some() {
            v.push("mkwrite_fault_lock");
        }
        if self.mkwrite_range_lock.is_some() {
            v.push("mkwrite_range_lock");
        }
        if self.write_range_lock.is_some() {
            v.push("write_range_lock");
        }
        if self.write_i_rwsem.is_some() {
            v.push("write_i_rwsem");
        }
        if self.invalidation_lock.is_some() {
            v.push("invalidation_lock");
        }
        if self.collapse_lock_to_eof.is_some() {
            v.push("collapse_lock_to_eof");
        }
        if self.dax_fault_lock.is_some() {
            v.push("dax_fault_lock");
        }
        if self.wait_for_dio.is_some() {
            v.push("wait_for_dio");
        }
        if self.dio_read_i_rwsem.is_some() {
            v.push("dio_read_i_rwsem");
        }
        if self.dio_range_lock.is_some() {
            v.push("dio_range_lock");
        }
        v
    }

    pub fn missing(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.fault_lock_whole_fault.is_none() {
            v.push("fault_lock_whole_fault");
        }
        if self.page_create_lock.is_none() {
            v.push("page_create_lock");
        }
        if self.mkwrite_fault_lock.is_none() {
            v.push("mkwrite_fault_lock");
        }
        if self.mkwrite_range_lock.is_none() {
            v.push("mkwrite_range_lock");
        }
        if self.write_range_lock.is_none() {
            v.push("write_range_lock");
        }
        if self.write_i_rwsem.is_none() {
            v.push("write_i_rwsem");
        }
        if self.invalidation_lock.is_none() {
            v.push("invalidation_lock");
        }
        if self.collapse_lock_to_eof.is_none() {
            v.push("collapse_lock_to_eof");
        }
        if self.dax_fault_lock.is_none() {
            v.push("dax_fault_lock");
        }
        if self.wait_for_dio.is_none() {
            v.push("wait_for_dio");
        }
        if self.dio_read_i_rwsem.is_none() {
            v.push("dio_read_i_rwsem");
        }
        if self.dio_range_lock.is_none() {
            v.push("dio_range_lock");
        }
        v
    }
}

/// The fields in the order their placements are laid down (which is the order locks that begin
/// at the same point are taken).
pub const FIELDS: [&str; 12] = [
    "fault_lock_whole_fault",
    "page_create_lock",
    "mkwrite_fault_lock",
    "mkwrite_range_lock",
    "write_i_rwsem",
    "write_range_lock",
    "invalidation_lock",
    "collapse_lock_to_eof",
    "wait_for_dio",
    "dio_read_i_rwsem",
    "dio_range_lock",
    "dax_fault_lock",
];

const INVALIDATORS: [(Func, Point, Point); 5] = [
    (Func::Truncate, Point::TruncateInvalidate, Point::TruncateEnd),
    (Func::PunchHole, Point::PunchInvalidate, Point::PunchEnd),
    (Func::ZeroRange, Point::ZeroInvalidate, Point::ZeroEnd),
    (Func::CollapseRange, Point::CollapseInvalidate, Point::CollapseEnd),
    (Func::InsertRange, Point::InsertInvalidate, Point::InsertEnd),
];

impl OldLockFields {
    /// The placements these fields mean. Direct writes take `i_rwsem` exclusive until
    /// submission, and madvise(MADV_REMOVE) holds `mmap_sem` until its punch, whatever the
    /// fields say (the form had no field for them).
    pub fn placements(&self) -> Vec<Placement> {
        let mut lock = Vec::new();
        for field in FIELDS {
            let value = match field {
                "fault_lock_whole_fault" => self.fault_lock_whole_fault.to_string(),
                "page_create_lock" => self.page_create_lock.name().to_string(),
                "mkwrite_fault_lock" => self.mkwrite_fault_lock.to_string(),
                "mkwrite_range_lock" => self.mkwrite_range_lock.to_string(),
                "write_i_rwsem" => self.write_i_rwsem.to_string(),
                "write_range_lock" => self.write_range_lock.name().to_string(),
                "invalidation_lock" => self.invalidation_lock.name().to_string(),
                "collapse_lock_to_eof" => self.collapse_lock_to_eof.to_string(),
                "wait_for_dio" => self.wait_for_dio.to_string(),
                "dio_read_i_rwsem" => self.dio_read_i_rwsem.to_string(),
                "dio_range_lock" => self.dio_range_lock.to_string(),
                "dax_fault_lock" => self.dax_fault_lock.name().to_string(),
                _ => unreachable!(),
            };
            apply_field(&mut lock, field, &value).expect("a typed field has a valid value");
            if field == "dio_read_i_rwsem" {
                lock.push(dio_write_i_rwsem());
            }
            if field == "dax_fault_lock" {
                lock.push(madvise_mmap_sem());
            }
        }
        lock
    }
}

impl PageCreateLock {
    pub fn name(self) -> &'static str {
        match self {
            PageCreateLock::None => "none",
            PageCreateLock::RangeLock => "range_lock",
            PageCreateLock::FaultLockShared => "fault_lock_shared",
        }
    }
}

impl WriteRangeLock {
    pub fn name(self) -> &'static str {
        match self {
            WriteRangeLock::None => "none",
            WriteRangeLock::PerPage => "per_page",
            WriteRangeLock::WholeSyscall => "whole_syscall",
        }
    }
}

impl InvalidationLock {
    pub fn name(self) -> &'static str {
        match self {
            InvalidationLock::None => "none",
            InvalidationLock::FaultLockExclusive => "fault_lock_exclusive",
            InvalidationLock::RangeLock => "range_lock",
        }
    }
}

impl DaxFaultLock {
    pub fn name(self) -> &'static str {
        match self {
            DaxFaultLock::IMmapShared => "i_mmap_shared",
            DaxFaultLock::FaultLockShared => "fault_lock_shared",
            DaxFaultLock::RangeLockExclusive => "range_lock_exclusive",
            DaxFaultLock::FaultLockSharedAndEntryLock => "fault_lock_shared_and_entry_lock",
        }
    }
}

/// ext4 takes `i_rwsem` exclusive for every direct write until the bio is submitted.
pub fn dio_write_i_rwsem() -> Placement {
    Placement::new(LockName::IRwsem, Mode::Exclusive, RangeSpec::File, Point::DioWriteStart, Point::DioWriteSubmitted)
        .with_code("ext4_file_write_iter / ext4_dio_write_iter: inode_lock until the bio is submitted")
}

/// do_madvise takes `mmap_sem` shared for MADV_REMOVE; madvise_remove drops it before
/// `vfs_fallocate` (the form had no field for it: madvise(MADV_REMOVE) came with placements).
pub fn madvise_mmap_sem() -> Placement {
    Placement::new(LockName::MmapSem, Mode::Shared, RangeSpec::File, Point::MadviseStart, Point::MadvisePunch)
        .with_code("do_madvise: mmap_read_lock; madvise_remove: mmap_read_unlock before vfs_fallocate")
}

/// Whether `field` is a field of the form before placements.
pub fn is_field(field: &str) -> bool {
    FIELDS.contains(&field)
}

/// The slot of `field`: the locks and functions whose placements it decides.
fn slot(field: &str) -> (&'static [LockName], &'static [Func]) {
    use Func::*;
    use LockName::*;
    match field {
        "fault_lock_whole_fault" => (&[FaultLock], &[FilemapFault]),
        "page_create_lock" => (&[FaultLock, RangeLock], &[PageCacheRead, FilemapReadPage]),
        "mkwrite_fault_lock" => (&[FaultLock], &[PageMkwrite]),
        "mkwrite_range_lock" => (&[RangeLock], &[PageMkwrite]),
        "write_i_rwsem" => (&[IRwsem], &[Write]),
        "write_range_lock" => (&[RangeLock], &[Write, GenericPerformWrite]),
        "invalidation_lock" => (
            &[FaultLock, RangeLock],
            &[Truncate, PunchHole, ZeroRange, CollapseRange, InsertRange, TruncateFailedWrite],
        ),
        "wait_for_dio" => (&[IDioCount], &[InodeDioWait]),
        "dio_read_i_rwsem" => (&[IRwsem], &[DioRead]),
        "dio_range_lock" => (&[RangeLock], &[DioRead, DioWrite, DaxWrite]),
        "dax_fault_lock" => (&[FaultLock, RangeLock, IMmapRwsem, DaxEntry], &[DaxFault, DaxInvalidateEntry]),
        _ => (&[], &[]),
    }
}

fn bad(field: &str, value: &str) -> String {
    format!("'{value}' is not a value of {field}")
}

/// Sets `field` to `value` (as the policy file spells it: `true`, `"range_lock"`, ...) on
/// `lock`: the placements of the field's slot are replaced by those the value means, at the
/// place of the first one replaced (or at the end).
pub fn apply_field(lock: &mut Vec<Placement>, field: &str, value: &str) -> Result<(), String> {
    use LockName::*;
    use Mode::*;
    use RangeSpec::*;
    let on = match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let flag = |code: &str, p: Placement| -> Result<Vec<Placement>, String> {
        match on {
            Some(true) => Ok(vec![p.with_code(code)]),
            Some(false) => Ok(vec![]),
            None => Err(bad(field, value)),
        }
    };
    if field == "collapse_lock_to_eof" {
        // Not a slot of its own: the range of collapse range's range lock.
        let to_eof = on.ok_or_else(|| bad(field, value))?;
        for p in lock.iter_mut().filter(|p| p.lock == RangeLock && p.func() == Func::CollapseRange) {
            p.range = if to_eof { ToEof } else { Range };
        }
        return Ok(());
    }
    let new: Vec<Placement> = match field {
        "fault_lock_whole_fault" => flag(
            "ext4_filemap_fault / xfs_filemap_fault: down_read of the fault lock around filemap_fault",
            Placement::new(FaultLock, Shared, File, Point::FilemapFaultStart, Point::FilemapFaultEnd),
        )?,
        "page_create_lock" => match value {
            "none" => vec![],
            "range_lock" => vec![
                Placement::new(RangeLock, Exclusive, Page, Point::PageCacheReadStart, Point::PageCacheReadEnd)
                    .with_code("Kara: take the range lock for the index, insert the locked page, read it, unlock"),
            ],
            "fault_lock_shared" => vec![
                Placement::new(FaultLock, Shared, File, Point::PageCacheReadStart, Point::PageCacheReadEnd)
                    .with_code("filemap_create_folio / page_cache_ra_unbounded: filemap_invalidate_lock_shared"),
                Placement::new(FaultLock, Shared, File, Point::FilemapReadPageStart, Point::FilemapReadPageEnd)
                    .with_code("filemap_update_page / filemap_fault: filemap_invalidate_lock_shared to read a page in"),
            ],
            _ => return Err(bad(field, value)),
        },
        "mkwrite_fault_lock" => flag(
            "ext4_page_mkwrite: down_read of the fault lock",
            Placement::new(FaultLock, Shared, File, Point::PageMkwriteStart, Point::PageMkwriteEnd),
        )?,
        "mkwrite_range_lock" => flag(
            "page_mkwrite takes the range lock on its index (Chinner's reading of the range lock design)",
            Placement::new(RangeLock, Exclusive, Page, Point::PageMkwriteStart, Point::PageMkwriteEnd),
        )?,
        "write_i_rwsem" => flag(
            "ext4_file_write_iter: inode_lock across the syscall",
            Placement::new(IRwsem, Exclusive, File, Point::WriteStart, Point::WriteEnd),
        )?,
        "write_range_lock" => match value {
            "none" => vec![],
            "per_page" => vec![
                Placement::new(RangeLock, Exclusive, Page, Point::GpwWriteBegin, Point::GpwGetBlock)
                    .with_code("Kara: grab_cache_page_write_begin takes the range lock for the index"),
            ],
            "whole_syscall" => vec![
                Placement::new(RangeLock, Exclusive, Range, Point::WriteStart, Point::WriteEnd)
                    .with_code("the range lock over the whole write, across the user copy"),
            ],
            _ => return Err(bad(field, value)),
        },
        "invalidation_lock" => match value {
            "none" => vec![],
            // ext4 takes the same lock around ext4_truncate_failed_write (i_mmap_sem, then
            // invalidate_lock); it matters only where the policy has a failed-write cleanup.
            "fault_lock_exclusive" => INVALIDATORS
                .iter()
                .map(|&(_, from, to)| {
                    Placement::new(FaultLock, Exclusive, File, from, to)
                        .with_code("down_write of the fault lock across eviction and block changes")
                })
                .chain(std::iter::once(
                    Placement::new(FaultLock, Exclusive, File, Point::FailedWriteStart, Point::FailedWriteEnd)
                        .with_code("ext4_truncate_failed_write: down_write of the fault lock"),
                ))
                .collect(),
            "range_lock" => INVALIDATORS
                .iter()
                .map(|&(func, from, to)| {
                    let range = if matches!(func, Func::CollapseRange | Func::InsertRange) { ToEof } else { Range };
                    Placement::new(RangeLock, Exclusive, range, from, to)
                        .with_code("Kara: the range lock over the range across eviction and freeing")
                })
                .collect(),
            _ => return Err(bad(field, value)),
        },
        "wait_for_dio" => flag(
            "inode_dio_wait: waits until i_dio_count drops to zero",
            Placement::new(IDioCount, Exclusive, File, Point::DioWaitStart, Point::DioWaitEnd),
        )?,
        "dio_read_i_rwsem" => flag(
            "ext4_dio_read_iter / iomap direct reads: inode_lock_shared until submission",
            Placement::new(IRwsem, Shared, File, Point::DioReadStart, Point::DioReadSubmitted),
        )?,
        "dio_range_lock" => match on {
            Some(true) => vec![
                Placement::new(RangeLock, Exclusive, Bio, Point::DioReadGetBlock, Point::DioReadDioEnd)
                    .with_code("Kara: DIO takes the range lock when it submits the bio, unlocks at completion"),
                Placement::new(RangeLock, Exclusive, Bio, Point::DioWriteGetBlock, Point::DioWriteDioEnd)
                    .with_code("Kara: DIO takes the range lock when it submits the bio, unlocks at completion"),
                Placement::new(RangeLock, Exclusive, Page, Point::DaxWriteStart, Point::DaxWriteEnd)
                    .with_code("DAX write(2) was the direct IO path (dax_do_io): the range lock per page"),
            ],
            Some(false) => vec![],
            None => return Err(bad(field, value)),
        },
        "dax_fault_lock" => {
            let whole = |lock, mode, range| Placement::new(lock, mode, range, Point::DaxFaultStart, Point::DaxFaultEnd);
            match value {
                "i_mmap_shared" => vec![
                    Placement::new(IMmapRwsem, Shared, File, Point::DaxFaultInsertMapping, Point::DaxFaultEnd)
                        .with_code(
                            "4.0-4.4 dax_insert_mapping: i_mmap_lock_read around the i_size check and insertion",
                        ),
                ],
                "fault_lock_shared" => {
                    vec![whole(FaultLock, Shared, File).with_code("ext4_dax_fault: down_read(i_mmap_sem)")]
                }
                "range_lock_exclusive" => {
                    vec![whole(RangeLock, Exclusive, Page).with_code("the range lock on the index")]
                }
                "fault_lock_shared_and_entry_lock" => vec![
                    whole(FaultLock, Shared, File).with_code("ext4_dax_huge_fault: filemap_invalidate_lock_shared"),
                    whole(DaxEntry, Exclusive, Page).with_code("grab_mapping_entry: the DAX entry lock of the index"),
                    Placement::new(DaxEntry, Exclusive, Page, Point::DaxInvalidateStart, Point::DaxInvalidateEnd)
                        .with_code("dax_invalidate_mapping_entry_sync: waits for the entry lock"),
                ],
                _ => return Err(bad(field, value)),
            }
        }
        _ => return Err(format!("'{field}' is not a lock field of the older policy form")),
    };
    let (locks, funcs) = slot(field);
    let in_slot = |p: &Placement| locks.contains(&p.lock) && funcs.contains(&p.func());
    let at = lock.iter().position(in_slot).unwrap_or(lock.len());
    lock.retain(|p| !in_slot(p));
    let at = at.min(lock.len());
    lock.splice(at..at, new);
    Ok(())
}
