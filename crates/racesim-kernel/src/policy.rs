//! Locking policies: which lock each kernel function takes, in which mode, over which range.
//!
//! A policy is a value that the operations in [`crate::ops`] consult at the points where real
//! designs differ; there is one copy of each operation, not one per design. Every field answers
//! one question a kernel function asks. The built-ins are data, in `policies/*.toml`, each a row
//! of MODEL.md section 3:
//!
//! | built-in | what it is |
//! |---|---|
//! | `legacy` | ext4 up to 4.4: `i_mutex`, page locks, the `i_size` recheck under the page lock |
//! | `mmaplock` | ext4 4.5-5.14 `i_mmap_sem` (XFS 4.1+ `MMAPLOCK` is the same for faults, but XFS also takes `IOLOCK` shared in read(2), which this policy does not model): faults shared, invalidation exclusive |
//! | `range_lock` | Kara's mapping range lock (2012-13): page creation and invalidation lock index ranges |
//! | `invalidate_lock` | Linux 5.15+ `mapping->invalidate_lock` |

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

/// Where a DAX fault zeroes a block it allocated for a write fault (and, in 4.0-4.4, an
/// unwritten extent it is about to map).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaxZeroing {
    /// Inside `get_block`, as part of the allocation, before the block is visible in the block
    /// map: ext4 `EXT4_GET_BLOCKS_ZERO` (c86d8db33a92 "ext4: implement allocation of pre-zeroed
    /// blocks", used for DAX faults by ba5843f51d46, Linux 4.5; `ext4_issue_zeroout` runs under
    /// `i_data_sem` before the extent status tree learns of the block), XFS `XFS_BMAPI_ZERO`
    /// (4.5). Nobody can map the block before it is zeroed.
    #[default]
    Allocation,
    /// In `dax_insert_mapping`, after `get_block` returned `buffer_new` (or `buffer_unwritten`):
    /// `clear_pmem` under `i_mmap_lock_read`, after the `i_size` check and before
    /// `vm_insert_mixed` (Linux 4.0-4.4; 843172978bb9 serialised it in 4.3-rc1 and
    /// 0f90cc6609c7 reverted that before 4.3). A second fault that finds the block already
    /// allocated maps it and its store can be wiped by the first fault's zeroing (xfstests
    /// generic/340, `src/holetest.c`).
    InsertMapping,
    /// Never zeroed: a known-bad variant that maps whatever the block held before.
    Never,
}

impl DaxZeroing {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DaxZeroing::Allocation => "allocation",
            DaxZeroing::InsertMapping => "insert_mapping",
            DaxZeroing::Never => "never",
        }
    }
}

/// Which kind of extent buffered writes and DAX write faults allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocKind {
    Written,
    Unwritten,
    /// Delayed allocation: writes reserve space; writeback allocates written blocks.
    Delalloc,
}

impl AllocKind {
    /// The extent a block allocated now becomes.
    pub fn allocated(self, pblk: crate::types::Pblk) -> crate::types::Extent {
        match self {
            AllocKind::Unwritten => crate::types::Extent::Unwritten(pblk),
            AllocKind::Written | AllocKind::Delalloc => crate::types::Extent::Written(pblk),
        }
    }
}

/// What a direct read does when the block map hands it a delayed-allocation extent: a
/// `page_mkwrite` reserved the block after the read flushed the page cache, so the data is in a
/// dirty page and nowhere on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioReadDelalloc {
    /// The mapping reports no block and the read zero-fills it as a hole (ext4: `ext4_map_blocks`
    /// returns 0 for a delayed extent, `get_block` leaves the buffer unmapped, and since 5.5
    /// `ext4_iomap_begin` reports `IOMAP_HOLE`).
    #[default]
    Hole,
    /// The read fails with EIO (XFS since 04197b341f23 "xfs: don't BUG() on mixed direct and
    /// mapped I/O", before it an `ASSERT`/`BUG`; the iomap direct IO path's `IOMAP_DELALLOC`
    /// case returns -EIO likewise).
    Eio,
}

/// Whether, and where, a direct write invalidates the page cache over its range again after
/// the data is on disk (the invalidation before submission always happens).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioWritePostInvalidate {
    /// No second invalidation (no Linux release; kept as the default so that policies and
    /// traces written before the field load unchanged).
    #[default]
    None,
    /// `generic_file_direct_write` calls `invalidate_inode_pages2_range` once `->direct_IO`
    /// returns: after completion for a synchronous write, right after submission for an
    /// asynchronous one (Linux before 4.14).
    AfterDirectIo,
    /// Also at completion: `dio_complete` / `iomap_dio_complete` invalidate after the
    /// unwritten conversion and before `inode_dio_end` (332391a9935d, with the order of
    /// c771c14baa33 and 5e25c269e17d; Linux 4.14+; `kiocb_invalidate_post_direct_write` today).
    AtCompletion,
}

/// A locking policy. See the module docs for the built-ins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    /// What kernel developers call the fault lock under this policy (for messages).
    pub fault_lock_name: String,
    /// `filemap_fault` runs entirely under the fault lock, shared.
    pub fault_lock_whole_fault: bool,
    pub page_create_lock: PageCreateLock,
    /// `page_mkwrite` takes the fault lock, shared.
    pub mkwrite_fault_lock: bool,
    /// `page_mkwrite` takes the range lock on the page's index, exclusive. Not part of Kara's
    /// RFC (which fences page creation only); it is Chinner's reading of the design in seed
    /// 000, "locking the range ... will cause the refault to block until the range is
    /// unlocked", and what it takes to fence writes to already-cached pages.
    pub mkwrite_range_lock: bool,
    /// `filemap_fault` rechecks `i_size` under the page lock (the legacy fence against
    /// truncate; commit d00806b18315 territory).
    pub fault_recheck_i_size: bool,
    pub write_range_lock: WriteRangeLock,
    /// write(2) takes `i_rwsem` exclusive; false where the range lock replaces it for writes
    /// (Kara's motivation (c): parallel writes to different parts of a file).
    pub write_i_rwsem: bool,
    /// write(2) copies from the user buffer with page faults enabled while it holds the page
    /// lock, instead of faulting the buffer in first and copying atomically: Linux before
    /// 2.6.24 (fixed by 08291429cfa6 "mm: fix pagecache write deadlocks", whose message
    /// describes the mmap_sem fairness deadlock this allows).
    pub write_copy_may_fault: bool,
    pub invalidation_lock: InvalidationLock,
    /// The range lock of collapse range covers `[offset, EOF)` rather than `[offset, offset+len)`.
    pub collapse_lock_to_eof: bool,
    /// Collapse range flushes dirty pages before taking `i_rwsem` and the invalidation lock
    /// (ext4 3.15-4.4), rather than under them.
    pub collapse_flush_outside_lock: bool,
    pub dax_fault_lock: DaxFaultLock,
    /// Truncate, punch, collapse, insert and zero range wait for in-flight direct IO
    /// (`inode_dio_wait`) before they evict and free.
    pub wait_for_dio: bool,
    /// Direct IO reads take `i_rwsem` shared until submission (writes always take it exclusive,
    /// as ext4 does for every write).
    pub dio_read_i_rwsem: bool,
    /// Direct IO takes the range lock over each bio from submission to completion (Kara).
    pub dio_range_lock: bool,
    /// Where a DAX fault zeroes a newly allocated block. Policy files written before this field
    /// said `dax_prezero = true/false`; the policy-file parser reads that as `allocation` /
    /// `never` (what the model did with it).
    #[serde(default)]
    pub dax_zeroing: DaxZeroing,
    /// Extent kind that buffered writes allocate.
    pub write_alloc: AllocKind,
    /// Reclaim leaves a page pinned for DMA alone instead of stripping its buffers before it
    /// finds the page cannot be freed: Linux 6.4, where d824ec2a1546 ("mm: do not reclaim
    /// private data from pinned page") checks `folio_maybe_dma_pinned` and direct IO pins its
    /// buffer with FOLL_PIN (`iov_iter_extract_pages`); before, direct IO took plain page
    /// references that such a check cannot see.
    pub reclaim_skips_pinned: bool,
    /// ext4's fence for unlocked direct reads (3.7-4.8, 17335dcc4711 and 1b65007e9870): a
    /// direct read that runs without `i_rwsem` tests `EXT4_STATE_DIOREAD_LOCK` under its
    /// `i_dio_count` reference and, if set, drops the reference and falls back to locked DIO
    /// (`i_rwsem` until submission). Punch, zero, collapse and insert range set the bit
    /// (`ext4_inode_block_unlocked_dio`) before `inode_dio_wait` and clear it when done;
    /// truncate sets it around `inode_dio_wait` only. Has no effect on reads that take
    /// `i_rwsem` anyway (`dio_read_i_rwsem`).
    #[serde(default)]
    pub dio_read_fence: bool,
    /// What a direct read does with a delayed-allocation extent.
    #[serde(default)]
    pub dio_read_delalloc: DioReadDelalloc,
    /// Whether, and where, a direct write invalidates its page-cache range after the data is on
    /// disk.
    #[serde(default)]
    pub dio_write_post_invalidate: DioWritePostInvalidate,
}

/// Names of the built-in policies, in the order reports list them. Their definitions are the
/// files in `policies/` at the root of the repository, loaded by `racesim-scenario` through the
/// same parser as a user's policy file.
pub const BUILTIN_POLICIES: [&str; 4] = ["legacy", "mmaplock", "range_lock", "invalidate_lock"];

/// One row of a policy read as a lock table: in `operation`, during `phase`, the kernel
/// function holds `lock` in `mode` over `range`, from `taken` to `released`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockRule {
    pub operation: &'static str,
    pub phase: &'static str,
    /// The lock's name; the fault lock goes by the name the policy gives it.
    pub lock: String,
    pub mode: &'static str,
    pub range: &'static str,
    pub taken: &'static str,
    pub released: &'static str,
}

impl Policy {
    /// The policy as a table: every lock each operation takes under it, in which phase, mode
    /// and range, and where it is taken and released. Derived from the fields; the functions in
    /// `ops` take and release exactly these (page locks, `mmap_sem` and `i_dio_count`, which no
    /// policy changes, are left out).
    pub fn lock_table(&self) -> Vec<LockRule> {
        let fault_lock = if self.fault_lock_name == "(none)" { "fault lock" } else { self.fault_lock_name.as_str() };
        let mut rules = Vec::new();
        let mut rule = |operation, phase, lock: &str, mode, range, taken, released| {
            rules.push(LockRule { operation, phase, lock: lock.to_string(), mode, range, taken, released })
        };
        if self.fault_lock_whole_fault {
            rule(
                "read/write fault",
                "filemap_fault",
                fault_lock,
                "shared",
                "file",
                "ext4_filemap_fault",
                "before finish_fault",
            );
        }
        match self.page_create_lock {
            PageCreateLock::None => {}
            PageCreateLock::RangeLock => rule(
                "read fault, read(2), readahead",
                "page creation",
                "range lock",
                "exclusive",
                "the index",
                "page_cache_read",
                "after the page is read",
            ),
            PageCreateLock::FaultLockShared => rule(
                "read fault, read(2), readahead",
                "page creation or read-in",
                fault_lock,
                "shared",
                "file",
                "page_cache_read / filemap_read_page",
                "after the page is read",
            ),
        }
        if self.mkwrite_fault_lock {
            rule(
                "write fault",
                "page_mkwrite",
                fault_lock,
                "shared",
                "file",
                "ext4_page_mkwrite",
                "end of page_mkwrite",
            );
        }
        if self.mkwrite_range_lock {
            rule(
                "write fault",
                "page_mkwrite",
                "range lock",
                "exclusive",
                "the index",
                "page_mkwrite",
                "end of page_mkwrite",
            );
        }
        if self.write_i_rwsem {
            rule("write(2)", "whole syscall", "i_rwsem", "exclusive", "file", "inode_lock", "inode_unlock");
        }
        match self.write_range_lock {
            WriteRangeLock::None => {}
            WriteRangeLock::PerPage => rule(
                "write(2)",
                "write_begin, per page",
                "range lock",
                "exclusive",
                "the page",
                "before grab_cache_page_write_begin",
                "once the locked page is in the cache",
            ),
            WriteRangeLock::WholeSyscall => rule(
                "write(2)",
                "whole syscall, across the user copy",
                "range lock",
                "exclusive",
                "the written range",
                "after inode_lock",
                "before inode_unlock",
            ),
        }
        rule(
            "truncate, punch, collapse, insert, zero",
            "whole operation",
            "i_rwsem",
            "exclusive",
            "file",
            "inode_lock",
            "inode_unlock",
        );
        if self.wait_for_dio {
            rule(
                "truncate, punch, collapse, insert, zero",
                "inode_dio_wait",
                "i_dio_count",
                "exclusive (instant)",
                "file",
                "after inode_lock",
                "at once",
            );
        }
        match self.invalidation_lock {
            InvalidationLock::None => {}
            InvalidationLock::FaultLockExclusive => rule(
                "truncate, punch, collapse, insert, zero",
                if self.collapse_flush_outside_lock {
                    "eviction and block changes"
                } else {
                    "flush, eviction and block changes"
                },
                fault_lock,
                "exclusive",
                "file",
                "filemap_invalidate_lock",
                "before inode_unlock",
            ),
            InvalidationLock::RangeLock => rule(
                "truncate, punch, collapse, insert, zero",
                if self.collapse_flush_outside_lock {
                    "eviction and block changes"
                } else {
                    "flush, eviction and block changes"
                },
                "range lock",
                "exclusive",
                if self.collapse_lock_to_eof {
                    "the range; collapse and insert: [offset, EOF)"
                } else {
                    "the range; collapse: [offset, offset+len)"
                },
                "after inode_lock",
                "before inode_unlock",
            ),
        }
        if self.dio_read_i_rwsem {
            rule(
                "direct read",
                "until submission",
                "i_rwsem",
                "shared",
                "file",
                "inode_lock_shared",
                "after submit_bio",
            );
        }
        rule("direct write", "until submission", "i_rwsem", "exclusive", "file", "inode_lock", "after submit_bio");
        if self.dio_range_lock {
            rule(
                "direct IO",
                "bio, submission to completion",
                "range lock",
                "exclusive",
                "the bio",
                "before the flush",
                "dio_bio_end_io",
            );
        }
        match self.dax_fault_lock {
            DaxFaultLock::IMmapShared => rule(
                "DAX fault",
                "i_size check and PTE insertion",
                "i_mmap_rwsem",
                "shared",
                "file",
                "dax_insert_mapping",
                "after vm_insert_mixed",
            ),
            DaxFaultLock::FaultLockShared => {
                rule("DAX fault", "whole fault", fault_lock, "shared", "file", "ext4_dax_fault", "end of the fault")
            }
            DaxFaultLock::RangeLockExclusive => rule(
                "DAX fault",
                "whole fault",
                "range lock",
                "exclusive",
                "the index",
                "dax_fault",
                "end of the fault",
            ),
            DaxFaultLock::FaultLockSharedAndEntryLock => {
                rule(
                    "DAX fault",
                    "whole fault",
                    fault_lock,
                    "shared",
                    "file",
                    "ext4_dax_huge_fault",
                    "end of the fault",
                );
                rule(
                    "DAX fault",
                    "whole fault",
                    "DAX entry lock",
                    "exclusive",
                    "the index",
                    "grab_mapping_entry",
                    "end of the fault",
                );
            }
        }
        rules
    }
}
