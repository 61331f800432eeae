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

use crate::placement::{Declaration, LockClassForm, Placement, PlacementForm};
pub use old_form::{DaxFaultLock, InvalidationLock, PageCreateLock, WriteRangeLock};
use serde::{Deserialize, Serialize};

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

/// How a buffered write(2) maps the blocks behind the pages it writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferedWriteMap {
    /// Each page's `write_begin` maps (and reserves or allocates) that page's block itself,
    /// under the page lock (`block_write_begin` with `get_block`): ext4 in every era
    /// (`ext4_write_begin`, `ext4_da_write_begin`), XFS before 4.8 (`xfs_vm_write_begin` ->
    /// `__xfs_get_blocks`). No map outlives the page lock.
    #[default]
    PerPage,
    /// iomap (XFS 4.8-6.1, 68a9f5e7007c "xfs: implement iomap based buffered write path"):
    /// `->iomap_begin` (`xfs_buffered_write_iomap_begin`) maps a run of pages once, reserving
    /// delayed allocations over its holes, and `iomap_write_begin` uses that cached map for
    /// every folio of the run. Writeback and reclaim, which take no lock the write holds, can
    /// change the extents behind it in between (d7b64041164c's message).
    Iomap,
    /// iomap with the validity cookie: after locking each folio, `iomap_write_begin` asks
    /// `->iomap_valid` (`xfs_iomap_valid`: the cookie against the data fork's sequence number)
    /// and maps again from that folio when the map went stale (d7b64041164c "iomap: write iomap
    /// validity checks", 304a68b9c63b "xfs: use iomap_valid method to detect stale cached
    /// iomaps", Linux 6.2, with 198dd8aedee6 and f43dc4dc3eff of the same series).
    IomapRevalidate,
}

impl BufferedWriteMap {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            BufferedWriteMap::PerPage => "per_page",
            BufferedWriteMap::Iomap => "iomap",
            BufferedWriteMap::IomapRevalidate => "iomap_revalidate",
        }
    }
}

/// What a buffered write(2) that stopped short (a copy that failed, ENOSPC in `write_begin`)
/// undoes of the allocation it made for the part it did not copy. Where it undoes anything, it
/// does so in the kernel function `truncate_failed_write` (a placement point set: `start`,
/// `truncate_pagecache`, `remove_space`, `end`), so a policy places the locks that cleanup
/// takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedWriteCleanup {
    /// Nothing is undone: blocks allocated for the pages not copied stay allocated, past EOF as
    /// well (what the model did before this field; no Linux release).
    #[default]
    None,
    /// If the write reached past `i_size`, the page cache and the blocks past `i_size` go:
    /// `ext4_truncate_failed_write` (`truncate_inode_pages` + `ext4_truncate`, since b9a4207d5e91
    /// "ext4: Avoid data / filesystem corruption when write fails to copy data", 2.6.32), the
    /// `->write_failed` hooks of `block_write_begin` users (`ext2_write_failed`:
    /// `truncate_pagecache` + `ext2_truncate_blocks`; `vmtruncate` inside `block_write_begin`
    /// before 2.6.35), and XFS's `xfs_vm_write_end` / `xfs_vm_write_failed` up to 4.7
    /// (`truncate_pagecache` + `xfs_vm_kill_delalloc_range` beyond EOF). Blocks inside EOF stay.
    TruncatePastEof,
    /// The delayed allocations this write reserved (IOMAP_F_NEW) over the part of its range it
    /// did not copy are punched, inside EOF too: `truncate_pagecache_range` over that part, then
    /// `xfs_bmap_punch_delalloc_range` (`xfs_file_iomap_end_delalloc` from 4.8,
    /// `xfs_buffered_write_iomap_end` until 6.1). The page cache goes whoever dirtied it.
    PunchDelalloc,
    /// As `punch_delalloc`, without truncating the page cache: the range is walked and only the
    /// delayed allocations under no dirty page are punched (f43dc4dc3eff "iomap: buffered write
    /// failure should not truncate the page cache", 6.2: `iomap_file_buffered_write_punch_delalloc`).
    PunchCleanDelalloc,
}

/// What a direct write allocates past EOF, and what is left of it when the write fails. Past
/// `i_size` nobody reads a block before the write's size update at completion, so a direct
/// write may allocate a written extent there; if the write fails (EFAULT from its user buffer,
/// ENOSPC), the size never moves over the block, but a later extension of the file (truncate
/// up, fallocate, a write further on) would expose what the block held before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioWritePastEof {
    /// Blocks are allocated as `write_alloc` says and stay after a failure (what the model did
    /// before this field; no Linux release).
    #[default]
    Written,
    /// Blocks are allocated as `write_alloc` says (ext4's `EXT4_GET_BLOCKS_CREATE` past EOF),
    /// and a direct write that failed after reaching past `i_size` runs
    /// `ext4_truncate_failed_write`: the page cache and every block past `i_size` go (ext4's
    /// `ext4_ind_direct_IO`, which took every write past EOF up to 4.x; `ext4_direct_IO_write`
    /// to 5.4, "if (ret < 0 && final_size > inode->i_size)"; `ext4_dio_write_iter` since 5.5,
    /// `ext4_handle_inode_extension` and later `ext4_inode_extension_cleanup(inode, ret < 0)`;
    /// ext3's `ext3_truncate_failed_direct_write`). Its locks are the placements of
    /// `truncate_failed_write`, the same function a failed write(2) runs.
    TruncateFailedWrite,
    /// Every block a direct write allocates is an unwritten extent, past EOF too, which its
    /// completion converts for the part written (XFS: `xfs_iomap_write_direct` allocates with
    /// `XFS_BMAPI_PREALLOC`, unconditionally in 3.17, 4.1 and 5.3): what a failed write leaves reads
    /// as zeroes.
    Unwritten,
}

impl DioWritePastEof {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioWritePastEof::Written => "written",
            DioWritePastEof::TruncateFailedWrite => "truncate_failed_write",
            DioWritePastEof::Unwritten => "unwritten",
        }
    }
}

impl FailedWriteCleanup {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            FailedWriteCleanup::None => "none",
            FailedWriteCleanup::TruncatePastEof => "truncate_past_eof",
            FailedWriteCleanup::PunchDelalloc => "punch_delalloc",
            FailedWriteCleanup::PunchCleanDelalloc => "punch_clean_delalloc",
        }
    }
}

/// What `pagecache_isize_extended` does when `i_size` grows past the page that straddled the old
/// EOF of a file whose blocks are smaller than a page (truncate up, an extending write). The
/// field changes nothing for files whose block size is the page size: the function returns at
/// once there (`bsize >= PAGE_SIZE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsizeExtended {
    /// No such function (Linux before 3.18): a PTE that was writable before `i_size` grew stays
    /// writable, so a store to a block of that page that was past EOF when `page_mkwrite` ran
    /// lands in a block nobody allocated, and writeback drops it (`ext4_bio_write_page` skips
    /// an unmapped buffer: "A hole? We can safely clear the dirty bit").
    None,
    /// 90a8020278c1 ("vfs: fix data corruption when blocksize < pagesize for mmaped data",
    /// Jan Kara, 3.18, Cc stable): under the page lock, `page_mkclean` write-protects the
    /// straddling page (dirtying it again if a PTE was dirty), so the next store takes
    /// `page_mkwrite`, which allocates the blocks the new size covers. The bytes past the old
    /// EOF are left as they are: a store there before the extension stays visible (Linux up to
    /// the zeroing below).
    #[default]
    WriteProtect,
    /// As `write_protect`, and a dirty straddling page is zeroed from the old EOF to the new
    /// one (or the end of the page), since writeback, which zeroes the part past EOF, will not
    /// see it past EOF any more: Brian Foster's "mm: zero range of eof folio exposed by inode
    /// size extension" (linux-mm / linux-ext4, 2024-09-19,
    /// <20240919160741.208162-3-bfoster@redhat.com>), `folio_zero_segment` in today's
    /// `pagecache_isize_extended`.
    WriteProtectAndZero,
}

impl IsizeExtended {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            IsizeExtended::None => "none",
            IsizeExtended::WriteProtect => "write_protect",
            IsizeExtended::WriteProtectAndZero => "write_protect_and_zero",
        }
    }
}

/// What truncate up does to the tail of the block that straddled the old EOF when that EOF lay
/// inside a block (a file truncated to half a block: docs/model.md, "An EOF inside a block").
/// The same choice names the function truncate down zeroes that tail with (every filesystem
/// zeroes it there), and what an extending write(2) that starts past that block does to the
/// tail: the same kernels zero it in their write paths, ext4 since the same patch
/// ([`Self::extending_write_zeroes_first`], [`Self::extending_write_zeroes_after`]). Files
/// whose EOF is on a block boundary never reach it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncateUpZero {
    /// ext4 before Brian Foster's "ext4: partial zero eof block on unaligned inode size
    /// extension" (c7fc0366c656, posted 2024-09-19, merged through the ext4 tree in November
    /// 2024 and backported to the 6.12, 6.11 and 6.6 stable kernels; patch 1/2 of the series
    /// whose patch 2, 52aecaee1c26, is `write_protect_and_zero`): `ext4_setattr` growing the file calls only
    /// `pagecache_isize_extended`, which returns at once when the block is the page
    /// (`bsize >= PAGE_SIZE`), so what a store put past the old EOF in the page's tail becomes
    /// file data. Truncate down zeroes with `ext4_block_truncate_page` (from `ext4_truncate`,
    /// "if (inode->i_size & (blocksize - 1))").
    #[default]
    None,
    /// Foster's ext4 patch: `ext4_setattr` growing the file from an EOF inside a block calls
    /// `ext4_block_truncate_page(handle, mapping, oldsize)` ("if (oldsize &
    /// (inode->i_sb->s_blocksize - 1))"), which zeroes the old EOF block from the old EOF
    /// through the page cache. Truncate down as `none`.
    Ext4BlockTruncatePage,
    /// ext4 from 7.1 (Zhang Yi's "ext4: refactor partial block zero-out for iomap conversion",
    /// 2026): Foster's zeroing renamed, and moved before the size changes wherever it ran after.
    /// `ext4_block_zero_eof(inode, from, end)` zeroes the old EOF block from `from` through the
    /// page cache, without a journal handle. `ext4_setattr` calls it growing the file, before
    /// the new size (`ext4_block_zero_eof(inode, oldsize, LLONG_MAX)`), and `ext4_truncate`
    /// shrinking it. An extending write(2) calls it in `ext4_write_checks` under `i_rwsem`,
    /// before `generic_perform_write` copies anything ("if (iocb->ki_pos > old_size ...)
    /// ext4_block_zero_eof(inode, old_size, iocb->ki_pos)"), without growing `i_size` there
    /// (unlike XFS's zeroing); `ext4_write_end` no longer zeroes after the size update. An
    /// extending fallocate calls it in `ext4_alloc_file_blocks` before its loop.
    Ext4BlockZeroEof,
    /// XFS with buffer heads (4.x): `xfs_setattr_size` growing the file calls `xfs_zero_eof`,
    /// whose `xfs_zero_last_block` zeroes the rest of the old EOF block through the page cache
    /// (`xfs_iozero`) unless it is a hole. Truncate down zeroes with `block_truncate_page(
    /// mapping, newsize, xfs_get_blocks)` before `truncate_setsize` (the model zeroes after the
    /// size change, under the same IOLOCK and MMAPLOCK: nothing can tell the order apart).
    XfsZeroEof,
    /// XFS with iomap (4.8+): `xfs_setattr_size` calls `iomap_zero_range(oldsize, newsize -
    /// oldsize)` growing the file, `iomap_truncate_page(newsize)` shrinking it; both zero through
    /// the page cache and skip holes and unwritten extents.
    IomapZeroRange,
}

impl TruncateUpZero {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            TruncateUpZero::None => "none",
            TruncateUpZero::Ext4BlockTruncatePage => "ext4_block_truncate_page",
            TruncateUpZero::Ext4BlockZeroEof => "ext4_block_zero_eof",
            TruncateUpZero::XfsZeroEof => "xfs_zero_eof",
            TruncateUpZero::IomapZeroRange => "iomap_zero_range",
        }
    }

    /// The function truncate down zeroes the tail of the new EOF block with.
    pub fn truncate_down_function(self) -> &'static str {
        match self {
            TruncateUpZero::None | TruncateUpZero::Ext4BlockTruncatePage => "ext4_block_truncate_page",
            TruncateUpZero::Ext4BlockZeroEof => "ext4_block_zero_eof",
            TruncateUpZero::XfsZeroEof => "block_truncate_page",
            TruncateUpZero::IomapZeroRange => "iomap_truncate_page",
        }
    }

    /// Whether that zeroing is a write through the page cache whose write_end grows `i_size` to
    /// the end of what it zeroed, in the step that zeroes, under the page lock: XFS's
    /// (`xfs_iozero` -> `pagecache_write_end` -> `generic_write_end` in 4.1, `iomap_zero` ->
    /// `iomap_write_end` in 5.3: "if (pos + ret > old_size) i_size_write(inode, pos + ret)"),
    /// wherever it runs (truncate up, fallocate and zero range through `xfs_setattr_size`, an
    /// extending write's checks). ext4's zeroing dirties the buffer and leaves the size alone.
    pub fn zeroing_grows_i_size(self) -> bool {
        matches!(self, TruncateUpZero::XfsZeroEof | TruncateUpZero::IomapZeroRange)
    }

    /// The function truncate up zeroes the tail of the old EOF block with, if it does.
    pub fn truncate_up_function(self) -> Option<&'static str> {
        match self {
            TruncateUpZero::None => None,
            TruncateUpZero::Ext4BlockTruncatePage => Some("ext4_block_truncate_page"),
            TruncateUpZero::Ext4BlockZeroEof => Some("ext4_block_zero_eof"),
            TruncateUpZero::XfsZeroEof => Some("xfs_zero_eof"),
            TruncateUpZero::IomapZeroRange => Some("iomap_zero_range"),
        }
    }

    /// What an extending write(2) does to the old EOF block's tail *before* it copies anything,
    /// when it starts past the block that holds an EOF inside it. XFS's write checks, under the
    /// exclusive IOLOCK: "if (iocb->ki_pos > i_size_read(inode)) ... xfs_zero_eof(ip,
    /// iocb->ki_pos, i_size_read(inode), &zero)" in 4.1's `xfs_file_aio_write_checks`;
    /// `iomap_zero_range(inode, isize, iocb->ki_pos - isize, ...)` in 5.3's. ext4 7.1's
    /// `ext4_write_checks`, under `i_rwsem`: "ext4_block_zero_eof(inode, old_size, iocb->ki_pos)".
    ///
    /// XFS from ee70daaba82d ("xfs: always drain dio before extending aio write submission",
    /// Brian Foster, 2015: `drained_dio` in 5.3's checks) waits for the direct IO in flight
    /// before it zeroes, whatever the IOLOCK mode; 4.1 waits only where it upgraded a shared
    /// IOLOCK, which a buffered write never holds (`xfs_file_buffered_aio_write` takes it
    /// exclusive). The iomap value stands for the kernels with the drain, `xfs_zero_eof` for
    /// 4.1's buffered writes.
    pub fn extending_write_zeroes_first(self) -> Option<ZeroBeforeWrite> {
        let zero = |check, function, grows_i_size, drains_dio| {
            Some(ZeroBeforeWrite { check, function, grows_i_size, drains_dio })
        };
        match self {
            // The zeroing is a write through the page cache whose write_end grows i_size.
            TruncateUpZero::XfsZeroEof => {
                zero("xfs_file_aio_write_checks", "xfs_zero_eof", self.zeroing_grows_i_size(), false)
            }
            TruncateUpZero::IomapZeroRange => {
                zero("xfs_file_aio_write_checks", "iomap_zero_range", self.zeroing_grows_i_size(), true)
            }
            // folio_zero_range and mark_buffer_dirty: no write_end, no size change.
            TruncateUpZero::Ext4BlockZeroEof => zero("ext4_write_checks", "ext4_block_zero_eof", false, false),
            TruncateUpZero::None | TruncateUpZero::Ext4BlockTruncatePage => None,
        }
    }

    /// What an extending *direct* write does to that tail before its IO, when it starts past
    /// the block that holds an EOF inside it. XFS runs the same write checks for direct writes
    /// (`xfs_file_dio_aio_write` -> `xfs_file_aio_write_checks` in 4.1 and 5.3), so it zeroes
    /// as for write(2). ext4 does not: 4.1's `ext4_file_write_iter` and 5.3's
    /// `ext4_direct_IO_write` have no zeroing past EOF; c7fc0366c656 (6.13) zeroes in the
    /// buffered write_end functions, `ext4_alloc_file_blocks` and `ext4_setattr`, not in the
    /// direct path; and 7.1's zeroing sits in `ext4_write_checks`, which the buffered and DAX
    /// paths call and the direct path (`ext4_dio_write_iter` -> `ext4_dio_write_checks`) does
    /// not (Zhang Yi, "[PATCH -next v2 08/22] ext4: zero post EOF partial block before
    /// appending write", linux-ext4, 2026-02-03: "support the DAX path as well as the upcoming
    /// iomap buffered write path").
    ///
    /// A direct write drains the direct IO in flight before it zeroes under both XFS values:
    /// 4.1 when `xfs_file_dio_aio_write` took the IOLOCK shared (an aligned write with no page
    /// cached) and had to upgrade it, later always. Simplified: the model drains under 4.1 too
    /// when pages are cached, which leaves out a race 4.1 had (a miss, never an alarm).
    pub fn extending_dio_write_zeroes_first(self) -> Option<ZeroBeforeWrite> {
        match self {
            TruncateUpZero::XfsZeroEof | TruncateUpZero::IomapZeroRange => {
                self.extending_write_zeroes_first().map(|zero| ZeroBeforeWrite { drains_dio: true, ..zero })
            }
            TruncateUpZero::None | TruncateUpZero::Ext4BlockTruncatePage | TruncateUpZero::Ext4BlockZeroEof => None,
        }
    }

    /// The function fallocate growing the file (mode 0 without FALLOC_FL_KEEP_SIZE) zeroes
    /// such a tail with before the size changes: ext4 7.1's `ext4_alloc_file_blocks` ("if
    /// (new_size > old_size) ext4_block_zero_eof(inode, old_size, LLONG_MAX)", before its
    /// loop), and XFS, whose `xfs_file_fallocate` sets the new size through
    /// `xfs_setattr_size`, which zeroes as truncate up does. ext4 6.13 to 6.19 zeroes after the
    /// size update ([`Self::extending_write_zeroes_after`]).
    pub fn fallocate_zeroes_first(self) -> Option<&'static str> {
        match self {
            TruncateUpZero::Ext4BlockZeroEof | TruncateUpZero::XfsZeroEof | TruncateUpZero::IomapZeroRange => {
                self.truncate_up_function()
            }
            TruncateUpZero::None | TruncateUpZero::Ext4BlockTruncatePage => None,
        }
    }

    /// The function such a write zeroes that tail with *after* `i_size` grew and the first
    /// page was unlocked: Foster's ext4 patch (c7fc0366c656) in `ext4_write_end` and
    /// `ext4_da_write_end` ("if (old_size < pos && !verity) { pagecache_isize_extended(inode,
    /// old_size, pos); ext4_zero_partial_blocks(handle, inode, old_size, pos - old_size); }"),
    /// and in `ext4_alloc_file_blocks` after a fallocate's size update. ext4 before it zeroes
    /// nothing there.
    pub fn extending_write_zeroes_after(self) -> Option<&'static str> {
        match self {
            TruncateUpZero::Ext4BlockTruncatePage => Some("ext4_zero_partial_blocks"),
            TruncateUpZero::None
            | TruncateUpZero::Ext4BlockZeroEof
            | TruncateUpZero::XfsZeroEof
            | TruncateUpZero::IomapZeroRange => None,
        }
    }

    /// Whether the zeroing goes through iomap, which decides from the extent alone: it skips
    /// `IOMAP_HOLE` and `IOMAP_UNWRITTEN` even where a dirty page is cached over the block
    /// (`iomap_zero_range_actor`). The buffer-head paths decide from the page's buffer: one
    /// already mapped (a write or a fault mapped it) is zeroed whatever the extent, an unmapped
    /// one is mapped by `get_block` without create, which leaves holes and unwritten extents
    /// unmapped ("unmapped? It's a hole - nothing to do"), but for
    /// [`Self::zeroes_unwritten_through_write`].
    pub fn zeroes_through_iomap(self) -> bool {
        self == TruncateUpZero::IomapZeroRange
    }

    /// Whether `function`, one of this policy's zeroing functions, zeroes an unwritten block
    /// whose buffer nothing mapped: XFS 4.1's `xfs_zero_eof` (truncate up, an extending write)
    /// does, since `xfs_zero_last_block` returns for a hole only ("if (imap.br_startblock ==
    /// HOLESTARTBLOCK) return 0") and zeroes through a write (`xfs_iozero` ->
    /// `pagecache_write_begin`, whose get_block creates). Its truncate down zeroes with
    /// `block_truncate_page`, which skips it as ext4's functions do.
    pub fn zeroes_unwritten_through_write(self, function: &str) -> bool {
        self == TruncateUpZero::XfsZeroEof && self.truncate_up_function() == Some(function)
    }

    /// The function the failed-write cleanup zeroes the tail of the block EOF lies half-way
    /// into with, if it does: ext4's `ext4_truncate_failed_write` calls `ext4_truncate`, which
    /// zeroes it as truncate down does ("if (inode->i_size & (blocksize - 1))"; the same call in
    /// every era this enum describes). XFS's cleanup of a failed buffered write
    /// (`xfs_vm_write_failed` and `xfs_vm_write_end` in 4.x, `xfs_buffered_write_iomap_end`
    /// later) truncates the page cache and kills delalloc, and zeroes no block; its direct
    /// writes undo nothing (their blocks past EOF stay unwritten).
    pub fn failed_write_truncate_zeroes(self) -> Option<&'static str> {
        match self {
            TruncateUpZero::None | TruncateUpZero::Ext4BlockTruncatePage | TruncateUpZero::Ext4BlockZeroEof => {
                Some(self.truncate_down_function())
            }
            TruncateUpZero::XfsZeroEof | TruncateUpZero::IomapZeroRange => None,
        }
    }

    /// Whether truncate down zeroes the tail of the block that holds the new EOF before
    /// `i_size` changes: XFS's `xfs_setattr_size` calls `block_truncate_page` (4.1) or
    /// `iomap_truncate_page` (5.3) before `truncate_setsize`, which writes `i_size` and then
    /// truncates the page cache; ext4's `ext4_truncate` calls `ext4_block_truncate_page` after
    /// `ext4_setattr` wrote `i_size` and ran `truncate_pagecache`.
    pub fn truncate_down_zeroes_before_size(self) -> bool {
        matches!(self, TruncateUpZero::XfsZeroEof | TruncateUpZero::IomapZeroRange)
    }
}

/// The zeroing of the old EOF block's tail an extending write(2) runs before its copy
/// ([`TruncateUpZero::extending_write_zeroes_first`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroBeforeWrite {
    /// The function that reads `i_size` to decide (the write's checks).
    pub check: &'static str,
    /// The function that zeroes.
    pub function: &'static str,
    /// Whether the zeroing grows `i_size` to the block's end (a write through the page cache
    /// whose write_end moves EOF: XFS), or leaves it (ext4 7.1).
    pub grows_i_size: bool,
    /// Whether the checks wait for the direct IO in flight (`inode_dio_wait`) once they see
    /// the write start past EOF, before they zero.
    pub drains_dio: bool,
}

/// How a direct write of part of a block (an "unaligned" direct write) is serialised against
/// other direct IO to the file: the direct IO code zeroes the part of a new or unwritten block
/// the write does not cover (`dio_zero_block`, `iomap_dio_zero`), so two such writes into the
/// two halves of one block zero each other's data unless they are kept apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioUnaligned {
    /// Nothing beyond what every direct write takes (Linux before 2.6.38: ext4 before
    /// e9e3bcecf44c "ext4: serialize unaligned asynchronous DIO", XFS before eda77982729b
    /// "xfs: serialise unaligned direct IOs").
    None,
    /// Before submitting, the unaligned write waits under the exclusive `i_rwsem` (XFS's
    /// IOLOCK_EXCL, ext4's i_mutex, 2.6.38-4.5 also its hashed `aio_mutex`) for the direct IO
    /// in flight (`inode_dio_wait`; ext4 waited for pending unwritten conversions,
    /// `ext4_aiodio_wait` / `ext4_unwritten_wait`), and then returns at submission: an aligned
    /// direct write that comes after it may still run under its IO (e9e3bcecf44c,
    /// eda77982729b; Linux 2.6.38-5.0). The default: a policy file written before the field
    /// describes a kernel (ext4 or XFS since 2011, like every built-in) or a design on top of
    /// one, and had no direct write of part of a block to judge, so it keeps its meaning.
    #[default]
    WaitBefore,
    /// As `wait_before`, and the unaligned write also waits for its own IO before it releases
    /// `i_rwsem`, so it is the only direct IO in flight: ext4 57a0da28ced8 "ext4: fix data
    /// corruption caused by overlapping unaligned and aligned IO" (Lukas Czerner) and XFS
    /// 2032a8a27b5c "xfs: serialize unaligned dio writes against all other dio writes"
    /// (Brian Foster), both Linux 5.1; later `ext4_dio_write_iter` (5.5+, `iomap_dio_rw` told
    /// to wait for an unaligned write) and `xfs_file_dio_write_unaligned`.
    WaitBeforeAndAfter,
}

impl DioUnaligned {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioUnaligned::None => "none",
            DioUnaligned::WaitBefore => "wait_before",
            DioUnaligned::WaitBeforeAndAfter => "wait_before_and_after",
        }
    }
}

/// ext4's data journalling mode (the `data=` mount option): what a jbd2 commit does with the
/// data of blocks the transaction allocated (Documentation/filesystems/ext4.rst, "Data Mode").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalData {
    /// `data=ordered`, ext4's default: "all data are forced directly out to the main file
    /// system prior to its metadata being committed to the journal". The commit writes the
    /// dirty pages over blocks the transaction allocated before its commit record
    /// (`journal_submit_data_buffers` for the inodes `ext4_jbd2_inode_add_write` filed).
    #[default]
    Ordered,
    /// `data=writeback`: "data ordering is not preserved, data may be written into the main
    /// file system after its metadata has been committed to the journal ... it can allow old
    /// data to appear in files after a crash and journal recovery".
    Writeback,
}

impl JournalData {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            JournalData::Ordered => "ordered",
            JournalData::Writeback => "writeback",
        }
    }
}

/// Whether, and where, punch hole or zero range writes out the dirty pages of its range before
/// it evicts them (`filemap_write_and_wait_range`). Only consulted where durability is modelled
/// (a scenario that commits or crashes) and, for punch hole, on files whose blocks are smaller
/// than a page (where it write-protects the pages straddling the hole): elsewhere the write-out
/// does not change what the range ends up holding, and scenarios keep their steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeFlush {
    /// No write-out: the dirty pages of the range are evicted with their data. ext4's
    /// `ext4_zero_range` from 4.5 (ea3d7209ca01 "ext4: fix races between page faults and hole
    /// punching" dropped its write-out; only data=journal flushes) until Zhang Yi's 2024 rework
    /// ("ext4: write out dirty data before dropping pages"). The default: what the model did
    /// before the field, so older policy files keep their meaning.
    #[default]
    None,
    /// Before `i_rwsem` ("Write out all dirty pages to avoid race conditions. Then release
    /// them."): `ext4_punch_hole` from punch hole's introduction (3.0) until Zhang Yi's 2024 rework
    /// moved it under the locks, `ext4_zero_range` 3.15-4.4.
    BeforeLock,
    /// Under the operation's locks, just before the eviction: XFS `xfs_free_file_space`
    /// (`filemap_write_and_wait_range` + `truncate_pagecache_range`, `xfs_flush_unmap_range`
    /// from 5.0), which punch and zero range both call under IOLOCK and MMAPLOCK.
    UnderLock,
}

impl RangeFlush {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            RangeFlush::None => "none",
            RangeFlush::BeforeLock => "before_lock",
            RangeFlush::UnderLock => "under_lock",
        }
    }
}

/// What punch hole does to a page that straddles an edge of the hole, on a file whose blocks
/// are smaller than a page (whole-block holes; files whose block is the page have no such
/// page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PunchPartialPage {
    /// ext4_punch_hole: `truncate_pagecache_range(inode, first_block_offset,
    /// last_block_offset)` evicts the pages wholly inside the hole; a page that straddles an
    /// edge stays cached, and mapped (the unmap covers whole pages only), and
    /// `truncate_inode_pages_range` zeroes the punched blocks in it and discards their buffers
    /// (`block_invalidatepage`). A PTE that `page_mkwrite` made writable stays writable, so a
    /// later store into a punched block lands in a buffer that maps no block, which writeback
    /// skips ("A hole? We can safely clear the dirty bit"): lost. From punch hole's introduction
    /// (3.0; the partial pages since 5a7203947a1d, 3.11) until 17207d0bb209 "ext4: remove
    /// writable userspace mappings before truncating page cache" (6.15, backported to 6.14 and
    /// 6.6 stable), which write-protects such a page first (`write_protect`). The default: the
    /// generic behaviour of `truncate_pagecache_range`.
    #[default]
    Zero,
    /// ext4 since 17207d0bb209 (6.15; 6.14 and 6.6 stable): `ext4_truncate_page_cache_block_range`
    /// first locks each page that straddles an edge and write-protects it
    /// (`ext4_truncate_folio`: "if (folio_mkclean(folio)) folio_mark_dirty(folio)") under the
    /// invalidation lock, "so that ext4_page_mkwrite() can be called during subsequent write
    /// access to these folios"; then zeroes and discards as `zero` does.
    WriteProtect,
    /// XFS `xfs_free_file_space` (4.x) / `xfs_flush_unmap_range` (5.0+): the write-out and the
    /// eviction are rounded out to `max(block size, PAGE_SIZE)`, so every page the hole
    /// touches is written back and evicted, unmapped, under IOLOCK and MMAPLOCK; the next store
    /// faults and `page_mkwrite` maps its block again.
    Evict,
}

impl PunchPartialPage {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            PunchPartialPage::Zero => "zero",
            PunchPartialPage::WriteProtect => "write_protect",
            PunchPartialPage::Evict => "evict",
        }
    }
}

/// When writeback samples `i_size` for the zeroing of the page that straddles EOF (files where
/// an EOF inside a block is reachable).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WritebackSizeSample {
    /// After `clear_page_dirty_for_io` write-protected the page: a store or a truncate up
    /// after the sample waits for the page lock, or finds the page writeback-clean (Jan Kara,
    /// "ext4: fix data corruption for mmap writes", 4.12; `block_write_full_page`, XFS and
    /// iomap always sampled inside `->writepage`, after `write_cache_pages` cleared the page).
    /// The default: what the model did before the field.
    #[default]
    AfterClearDirty,
    /// Before it: ext4's `mpage_submit_page` before 4.12, so a truncate up and a store through
    /// the still-writable PTE between the sample and the clear are zeroed as past EOF
    /// (xfstests generic/438).
    BeforeClearDirty,
}

impl WritebackSizeSample {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            WritebackSizeSample::AfterClearDirty => "after_clear_dirty",
            WritebackSizeSample::BeforeClearDirty => "before_clear_dirty",
        }
    }
}

/// What a direct write does when `invalidate_inode_pages2_range`, after its flush, meets a page
/// it cannot invalidate (dirtied since the flush: -EBUSY).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioInvalidateBusy {
    /// Fall back to a buffered write of the range (`generic_file_direct_write`: "If a page can
    /// not be invalidated, return 0 to fall back to buffered write", ext4 through 5.4; -ENOTBLK
    /// from `iomap_dio_rw` since 5.10, 60263d5889e6, on which ext4 and XFS fall back). The
    /// default: what the model did before the field.
    #[default]
    BufferedFallback,
    /// Return 0 bytes written, writing nothing: XFS up to 4.0 called
    /// `generic_file_direct_write`, whose "return 0 to fall back" reached a caller with "No
    /// fallback to buffered IO on errors for XFS" (`xfs_file_dio_aio_write`).
    ShortWrite,
    /// Warn and write directly all the same, leaving the dirty page cached over the new data
    /// (XFS's own `WARN_ON_ONCE` before `->direct_IO` in the 4.x kernels; `iomap_dio_rw` from
    /// 4.10 to 5.9, XFS and ext4 5.5-5.9: "If this invalidation fails, tough, the write will
    /// still work", later `dio_warn_stale_pagecache`).
    Warn,
}

impl DioInvalidateBusy {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioInvalidateBusy::BufferedFallback => "buffered_fallback",
            DioInvalidateBusy::ShortWrite => "short_write",
            DioInvalidateBusy::Warn => "warn",
        }
    }
}

/// When a direct read dirties the user pages its DMA fills (a buffer mapped from a file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioReadDirty {
    /// After the IO only: fs/direct-io.c's `dio_bio_complete` runs `set_page_dirty_lock` on
    /// each page of a synchronous read (`dio_bio_submit` dirties before submission only for an
    /// asynchronous one). The default: what the model did before the field.
    #[default]
    AfterIo,
    /// Before the bio is submitted as well: iomap's `bio_set_pages_dirty(bio)` under
    /// IOMAP_DIO_DIRTY, then `bio_check_pages_dirty` at completion for the pages cleaned since
    /// (`iomap_dio_rw`, XFS since 4.10, ext4 since 5.5).
    BeforeSubmit,
}

impl DioReadDirty {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioReadDirty::AfterIo => "after_io",
            DioReadDirty::BeforeSubmit => "before_submit",
        }
    }
}

/// Where a direct write that ended past EOF updates `i_size`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioExtendSize {
    /// After the completion (its invalidation of the range) and `inode_dio_end`, still under
    /// `i_rwsem`: ext4's `ext4_direct_IO_write` up to 5.4 and `ext4_handle_inode_extension` from
    /// 5.5 to 5.12. The default: what the model did before the field.
    #[default]
    AfterCompletion,
    /// In the completion's `->end_io`, before `iomap_dio_complete` invalidates the range:
    /// `xfs_dio_write_end_io`, and ext4's `ext4_dio_write_end_io` since 5899593f51e6 ("ext4: Fix
    /// occasional generic/418 failure", 5.13): a fault between the invalidation and the size
    /// update found the page past EOF and cached zeroes over the new data.
    InEndIo,
}

impl DioExtendSize {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioExtendSize::AfterCompletion => "after_completion",
            DioExtendSize::InEndIo => "in_end_io",
        }
    }
}

/// Whether a direct IO flushes (and, writing, invalidates) its page-cache range a second time,
/// after `get_user_pages` has pinned the buffer and just before it maps blocks and submits the
/// bio: the point where Kara's RFC takes the range lock over the bio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioSubmitInvalidate {
    /// Once, before the buffer is pinned: every kernel (generic_file_direct_write,
    /// ext4_direct_IO_read, do_blockdev_direct_IO's DIO_LOCKING flush, iomap_dio_rw).
    #[default]
    None,
    /// Again at submission, under the range lock: "DIO gets range lock at the moment it submits
    /// bio for the range covering pages in the bio. Then pagecache is truncated and bio
    /// submitted" (Kara's mapping range lock RFC, 2012-13). The model writes dirty pages back
    /// before it evicts them, as the first flush does.
    FlushAndInvalidate,
}

impl DioSubmitInvalidate {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioSubmitInvalidate::None => "none",
            DioSubmitInvalidate::FlushAndInvalidate => "flush_and_invalidate",
        }
    }
}

/// Whether a direct read invalidates its page-cache range after its flush, before the IO, as a
/// direct write does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioReadInvalidate {
    /// It only flushes: fs/direct-io.c readers (generic_file_read_iter, ext4_direct_IO_read),
    /// and iomap since 5.9 ("iomap: Only invalidate page cache pages on direct IO writes":
    /// "Don't invalidate the page cache during direct reads since we already sync'd the cache
    /// with disk"). The default: what the model did before the field.
    #[default]
    None,
    /// `invalidate_inode_pages2_range` over the range after the flush, a page it cannot drop (dirty
    /// again since the flush) only warned about: XFS's own direct read up to 4.9
    /// (xfs_file_read_iter / xfs_file_dio_aio_read, "Invalidate whole pages ... Warn if it does
    /// fail": WARN_ON_ONCE), and iomap_dio_rw from 4.10 to 5.8, for reads as for writes
    /// (dio_warn_stale_pagecache from 4.19).
    BeforeIo,
}

impl DioReadInvalidate {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioReadInvalidate::None => "none",
            DioReadInvalidate::BeforeIo => "before_io",
        }
    }
}

/// Whether a direct IO pins its user buffer before or after it maps the blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DioPinOrder {
    /// fs/direct-io.c: `do_direct_IO` pins a batch of user pages (`dio_get_page` ->
    /// `get_user_pages`) and then maps their blocks (`get_more_blocks` -> `get_block`). The
    /// default: what the model did before the field.
    #[default]
    PinThenMap,
    /// iomap (`iomap_dio_rw`): `->iomap_begin` maps an extent, then `iomap_dio_bio_iter` pins
    /// the user pages of its bio (`bio_iov_iter_get_pages`). A fault the pin takes (a
    /// `page_mkwrite` that allocates the block of a hole the read maps into) comes after the
    /// read has seen the hole.
    MapThenPin,
}

impl DioPinOrder {
    /// The value as policy files spell it.
    pub fn name(self) -> &'static str {
        match self {
            DioPinOrder::PinThenMap => "pin_then_map",
            DioPinOrder::MapThenPin => "map_then_pin",
        }
    }
}

fn default_true() -> bool {
    true
}

/// A locking policy. See the module docs for the built-ins.
///
/// The locks a policy decides are its [`Placement`]s; the other fields switch behaviour that
/// is not lock taking. The serialised form (policy files, traces) writes the placements as a
/// `lock` array of [`PlacementForm`]s; the form before placements (a field per lock decision,
/// see [`old_form`]) is still read.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PolicyWire", into = "PolicyWire")]
pub struct Policy {
    pub name: String,
    /// What kernel developers call the fault lock under this policy (for messages).
    pub fault_lock_name: String,
    /// `filemap_fault` rechecks `i_size` under the page lock (the legacy fence against
    /// truncate; commit d00806b18315 territory).
    pub fault_recheck_i_size: bool,
    /// write(2) copies from the user buffer with page faults enabled while it holds the page
    /// lock, instead of faulting the buffer in first and copying atomically: Linux before
    /// 2.6.24 (fixed by 08291429cfa6 "mm: fix pagecache write deadlocks", whose message
    /// describes the mmap_sem fairness deadlock this allows).
    pub write_copy_may_fault: bool,
    /// Collapse and insert range flush dirty pages before taking `i_rwsem` (ext4 3.15-4.4),
    /// rather than at their `invalidate` point.
    pub collapse_flush_outside_lock: bool,
    /// Where a DAX fault zeroes a newly allocated block. Policy files written before this field
    /// said `dax_prezero = true/false`; the policy-file parser reads that as `allocation` /
    /// `never` (what the model did with it).
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
    /// truncate sets it around `inode_dio_wait` only, which those kernels run after writing the
    /// smaller size, and only when shrinking (1c9114f9c0f1 to 5.2; without the fence the model
    /// waits before the size update, as ext4 5.3+ and XFS do). Has no effect on reads whose
    /// placements take `i_rwsem` anyway.
    pub dio_read_fence: bool,
    /// What a direct read does with a delayed-allocation extent.
    pub dio_read_delalloc: DioReadDelalloc,
    /// Truncate, punch, zero, collapse and insert range of a DAX file break layouts before they
    /// change the block map: under the fault lock held exclusive, `dax_layout_busy_page` unmaps
    /// the file and finds a DAX page `get_user_pages` still holds, and the filesystem waits for
    /// its references to drop, releasing the fault lock while it sleeps and looking again after
    /// (`ext4_break_layouts` / `ext4_wait_dax_page`, `xfs_break_dax_layouts` /
    /// `xfs_wait_dax_page`; 5fac7408d828, 430657b6be89, d6dc57e251a4, Linux 4.18). Without it
    /// (Linux before 4.18), the blocks are freed while a DMA still targets them.
    pub dax_break_layouts: bool,
    /// Whether, and where, a direct write invalidates its page-cache range after the data is on
    /// disk.
    pub dio_write_post_invalidate: DioWritePostInvalidate,
    /// How buffered write(2) maps its pages' blocks: per page, or once per run of pages with
    /// iomap, with or without the validity cookie.
    pub buffered_write_map: BufferedWriteMap,
    /// What a write(2) that stopped short undoes of its allocation (`truncate_failed_write`).
    pub failed_write_cleanup: FailedWriteCleanup,
    /// What a direct write allocates past EOF and leaves there when it fails.
    pub dio_write_past_eof: DioWritePastEof,
    /// What `pagecache_isize_extended` does to the page straddling the old EOF when `i_size`
    /// grows (files with blocks smaller than a page only).
    pub pagecache_isize_extended: IsizeExtended,
    /// Whether fallocate that grows `i_size` (mode 0 or zero range, not FALLOC_FL_KEEP_SIZE)
    /// calls `pagecache_isize_extended` too: XFS through `xfs_setattr_size` -> `truncate_setsize`;
    /// ext4 only since c7fc0366c656 (6.13; stable 6.12.5 and 6.6), in `ext4_alloc_file_blocks`. Files with blocks
    /// smaller than a page only.
    pub fallocate_isize_extended: bool,
    /// Whether fallocate that grows `i_size` then runs `truncate_pagecache(inode, newsize)`,
    /// whose partial page zeroes the page holding a new EOF inside a page from there to its end:
    /// XFS, whose `xfs_file_fallocate` sets the new size through `xfs_vn_setattr_size` ->
    /// `xfs_setattr_size` -> `truncate_setsize`; never ext4, whose `ext4_alloc_file_blocks`
    /// raises `i_size` itself (`ext4_update_inode_size`). The zeroing matters on files with
    /// blocks smaller than a page only (elsewhere a size in blocks is on a page boundary). The
    /// same fact decides what a fallocate that runs out of blocks part-way leaves: XFS sets the
    /// size only after the whole allocation succeeded, so it keeps the old one; ext4 keeps the
    /// size it grew over the blocks it allocated.
    pub fallocate_truncate_pagecache: bool,
    /// What truncate up does to the tail of a block that straddled the old EOF, and which
    /// function truncate down zeroes such a tail with ([`TruncateUpZero`]).
    pub truncate_up_zero_eof: TruncateUpZero,
    /// Whether truncate down writes back and waits for the page holding the new EOF before it
    /// zeroes the tail of the block there: `xfs_setattr_size` since 869ae85dae64 (5.10), "iomap
    /// won't detect a dirty page over an unwritten block ... Flush the new EOF to convert the
    /// block before the pagecache truncate" (`filemap_write_and_wait_range(mapping, newsize,
    /// newsize)`). ext4 never did; XFS before it did not. Default false.
    pub truncate_flush_new_eof: bool,
    /// Whether iomap's zeroing (`truncate_up_zero_eof = "iomap_zero_range"`) writes back a
    /// range that needs writeback over a hole or an unwritten mapping before it decides, then
    /// maps it again: Linux 6.12, c5c810b94cfd ("iomap: fix handling of dirty folios over
    /// unwritten extents", which flushed the range unconditionally and dropped 869ae85dae64's
    /// flush from `xfs_setattr_size`) and 7d9b474ee4cc ("iomap: make zero range flush
    /// conditional on unwritten mappings": `filemap_range_needs_writeback`,
    /// `iomap_zero_iter_flush_and_stale`), which the model follows. Before them, a dirty page
    /// over an unwritten block or a hole kept what a write or a store put past EOF there.
    /// Default false.
    pub iomap_zero_flush_unwritten: bool,
    /// How a direct write of part of a block is serialised against other direct IO.
    pub dio_unaligned: DioUnaligned,
    /// Whether, and where, punch hole writes out the dirty pages of its range before evicting
    /// them (durability-modelling scenarios only).
    pub punch_hole_flush: RangeFlush,
    /// The same for zero range.
    pub zero_range_flush: RangeFlush,
    /// When writeback samples `i_size` for the zeroing of the page that straddles an EOF
    /// inside its block: after `clear_page_dirty_for_io` (every kernel but ext4 before 4.12)
    /// or before it.
    pub writeback_size_sample: WritebackSizeSample,
    /// Whether writeback of a dirty page of blocks smaller than a page writes the page's clean
    /// uptodate buffers too, not only its dirty ones: XFS (`xfs_vm_writepage` in 4.1 writes
    /// every uptodate buffer, `xfs_writepage_map` in 5.3 every uptodate block; iomap kept no
    /// per-block dirty state until 4ce02c679722, 6.6), not ext4 (`ext4_bio_write_page`: "if
    /// (!buffer_dirty(bh) || ...) continue"). It tells only where a clean buffer differs from its
    /// block: one read in while a direct write changed the block. Default true (what the model
    /// did before the field).
    pub writeback_clean_buffers: bool,
    /// What a direct write does when its invalidation after the flush meets a page dirtied
    /// since: fall back to a buffered write, or warn and write directly.
    pub dio_invalidate_busy: DioInvalidateBusy,
    /// When a direct read dirties the user pages its DMA fills: after the IO (fs/direct-io.c)
    /// or before submitting the bio too (iomap).
    pub dio_read_dirty: DioReadDirty,
    /// Where a direct write that ended past EOF updates `i_size`: after its completion's
    /// invalidation (ext4 up to 5.12) or in its `->end_io`, before it (XFS, ext4 5.13+).
    pub dio_extend_size: DioExtendSize,
    /// Whether a direct IO flushes and invalidates its range again at submission, after
    /// pinning its buffer (Kara's RFC, under the range lock), besides the flush before.
    pub dio_submit_invalidate: DioSubmitInvalidate,
    /// Whether a direct IO pins its user buffer before mapping its blocks (fs/direct-io.c) or
    /// after (iomap).
    pub dio_pin_order: DioPinOrder,
    /// Whether a direct read invalidates its range after its flush, as a direct write does
    /// (XFS up to 4.9, iomap 4.10-5.8).
    pub dio_read_invalidate: DioReadInvalidate,
    /// What punch hole does to a page that straddles an edge of the hole on a file whose
    /// blocks are smaller than a page ([`PunchPartialPage`]).
    pub punch_partial_page: PunchPartialPage,
    /// Whether an allocation that found no free block, while blocks freed in the running
    /// transaction wait for its commit, forces that commit and tries again
    /// (`ext4_should_retry_alloc` + `jbd2_journal_force_commit_nested`, at most three retries;
    /// durability-modelling scenarios only).
    pub alloc_retry_commit: bool,
    /// Whether every direct IO and DAX allocation retries the same way: a direct write's block
    /// mapping (`ext4_iomap_alloc`; `ext4_get_block_trans` from 4.6, 914f82a32d02), a DAX
    /// write(2)'s (`ext4_iomap_begin`) and a DAX write fault's (`ext4_dax_huge_fault`), as in
    /// 5.3. Without it only a direct or DAX write past EOF retries (4.x's
    /// `ext4_ind_direct_IO`). Only consulted with `alloc_retry_commit`.
    pub alloc_retry_dio_dax: bool,
    /// Writeback's `i_disksize` update and truncate's are serialised by `i_data_sem`
    /// (90e775b71ac4 "ext4: fix lost truncate due to race with writeback", Linux 3.17):
    /// `ext4_setattr` writes `i_disksize` and `i_size` together under it, and
    /// `mpage_map_and_submit_extent` reads `i_size` and raises `i_disksize` under it. Before,
    /// `ext4_setattr` wrote `i_disksize` and then `i_size`, and writeback could raise
    /// `i_disksize` from the old `i_size` in between: a truncate lost on disk. Only consulted
    /// where durability is modelled (a scenario that commits or crashes).
    pub disksize_i_data_sem: bool,
    /// Punch hole and zero range raise `i_disksize` to `i_size` before they evict the page
    /// cache, when their range reaches EOF (`ext4_update_disksize_before_punch`, 011278485ecc
    /// "ext4: fix races of writeback with punch hole and zero range", Jan Kara, Linux 4.5):
    /// "Otherwise i_disksize update can get lost as it may have been postponed to submission
    /// of writeback but that will never happen after we truncate page cache." `false` is ext4
    /// before 4.5, and XFS, which has no `i_disksize` (its punch writes the range out under
    /// its locks). Only consulted where durability is modelled.
    pub update_disksize_before_punch: bool,
    /// Delayed-allocation writeback files the inode with the running transaction when it
    /// allocates (`ext4_map_blocks` → `ext4_jbd2_inode_add_write`, as 06bd3c36a733 "ext4: fix
    /// data exposure after a crash", Linux 4.7-rc1, restored), so that a data=ordered commit
    /// writes the new blocks' data before its commit record. `false` is ext4 from 3.8 to 4.6:
    /// f3b59291a69d ("ext4: remove calls to ext4_jbd2_file_inode() from delalloc write path")
    /// filed nothing on that path, and a commit could make the block map durable before the
    /// data (CVE-2017-7495). Only consulted where durability is modelled, with
    /// `write_alloc = "delalloc"` and `journal_data = "ordered"`.
    pub delalloc_files_inode: bool,
    /// A write fault's `page_mkwrite` that allocates a block without delayed allocation files
    /// the inode with the running transaction (`ext4_map_blocks` → `ext4_jbd2_inode_add_write`
    /// for every new written block, 06bd3c36a733, Linux 4.7-rc1, 4.6.2 stable), so that a
    /// data=ordered commit writes the page before its commit record. `false` is ext4 from 2011
    /// (9ea7df534ed2 "ext4: Rewrite ext4_page_mkwrite() to use generic helpers": `ext4_get_block`
    /// under a handle of its own, no `ext4_write_end`, so no `ext4_jbd2_file_inode`) to 4.6: the
    /// commit message of 06bd3c36a733 names "filling hole via mmap in data=ordered,nodelalloc
    /// mode" among the exposures it fixes. Only consulted where durability is modelled.
    pub mkwrite_files_inode: bool,
    /// ext4's `data=` mode: whether a journal commit writes newly allocated blocks' data first.
    pub journal_data: JournalData,
    /// The lock classes this policy declares (filesystem-internal locks: `i_data_sem`,
    /// `ILOCK`, ...), in slot order; none in the built-ins.
    pub declared: Vec<Declaration>,
    /// The locks kernel functions take, in the order they take the ones that begin at one point.
    pub lock: Vec<Placement>,
}

/// A policy as it is serialised: today's form (`lock` placements), or the form before
/// placements (one field per lock decision, [`old_form::OldLockFields`]), which traces
/// recorded before still carry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyWire {
    pub name: String,
    pub fault_lock_name: String,
    pub fault_recheck_i_size: bool,
    pub write_copy_may_fault: bool,
    #[serde(default)]
    pub collapse_flush_outside_lock: bool,
    #[serde(default)]
    pub dax_zeroing: DaxZeroing,
    pub write_alloc: AllocKind,
    pub reclaim_skips_pinned: bool,
    #[serde(default)]
    pub dio_read_fence: bool,
    #[serde(default)]
    pub dio_read_delalloc: DioReadDelalloc,
    #[serde(default)]
    pub dio_write_post_invalidate: DioWritePostInvalidate,
    #[serde(default = "default_true")]
    pub disksize_i_data_sem: bool,
    #[serde(default)]
    pub update_disksize_before_punch: bool,
    #[serde(default)]
    pub journal_data: JournalData,
    #[serde(default = "default_true")]
    pub delalloc_files_inode: bool,
    #[serde(default = "default_true")]
    pub mkwrite_files_inode: bool,
    #[serde(default)]
    pub buffered_write_map: BufferedWriteMap,
    #[serde(default)]
    pub dax_break_layouts: bool,
    #[serde(default)]
    pub failed_write_cleanup: FailedWriteCleanup,
    #[serde(default)]
    pub dio_write_past_eof: DioWritePastEof,
    #[serde(default)]
    pub pagecache_isize_extended: IsizeExtended,
    #[serde(default)]
    pub fallocate_isize_extended: bool,
    #[serde(default)]
    pub fallocate_truncate_pagecache: bool,
    #[serde(default)]
    pub truncate_up_zero_eof: TruncateUpZero,
    #[serde(default)]
    pub truncate_flush_new_eof: bool,
    #[serde(default)]
    pub iomap_zero_flush_unwritten: bool,
    #[serde(default)]
    pub dio_unaligned: DioUnaligned,
    #[serde(default)]
    pub punch_hole_flush: RangeFlush,
    #[serde(default)]
    pub zero_range_flush: RangeFlush,
    #[serde(default)]
    pub alloc_retry_commit: bool,
    #[serde(default)]
    pub alloc_retry_dio_dax: bool,
    #[serde(default)]
    pub writeback_size_sample: WritebackSizeSample,
    #[serde(default = "default_true")]
    pub writeback_clean_buffers: bool,
    #[serde(default)]
    pub dio_invalidate_busy: DioInvalidateBusy,
    #[serde(default)]
    pub dio_read_dirty: DioReadDirty,
    #[serde(default)]
    pub dio_extend_size: DioExtendSize,
    #[serde(default)]
    pub dio_submit_invalidate: DioSubmitInvalidate,
    #[serde(default)]
    pub dio_pin_order: DioPinOrder,
    #[serde(default)]
    pub dio_read_invalidate: DioReadInvalidate,
    #[serde(default)]
    pub punch_partial_page: PunchPartialPage,
    // The form before placements: one field per lock decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_lock_whole_fault: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_create_lock: Option<PageCreateLock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mkwrite_fault_lock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mkwrite_range_lock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_range_lock: Option<WriteRangeLock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_i_rwsem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation_lock: Option<InvalidationLock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_lock_to_eof: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dax_fault_lock: Option<DaxFaultLock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_dio: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dio_read_i_rwsem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dio_range_lock: Option<bool>,
    /// Declared lock classes (`[[lock_class]]`); absent in policies written before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lock_class: Vec<LockClassForm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<Vec<PlacementForm>>,
}

impl TryFrom<PolicyWire> for Policy {
    type Error = String;

    fn try_from(w: PolicyWire) -> Result<Policy, String> {
        let old = old_form::OptionalOldLockFields {
            fault_lock_whole_fault: w.fault_lock_whole_fault,
            page_create_lock: w.page_create_lock,
            mkwrite_fault_lock: w.mkwrite_fault_lock,
            mkwrite_range_lock: w.mkwrite_range_lock,
            write_range_lock: w.write_range_lock,
            write_i_rwsem: w.write_i_rwsem,
            invalidation_lock: w.invalidation_lock,
            collapse_lock_to_eof: w.collapse_lock_to_eof,
            dax_fault_lock: w.dax_fault_lock,
            wait_for_dio: w.wait_for_dio,
            dio_read_i_rwsem: w.dio_read_i_rwsem,
            dio_range_lock: w.dio_range_lock,
        };
        let declared = crate::placement::declare(&w.lock_class)
            .map_err(|(i, e)| format!("lock class number {}: {}", i + 1, e.message))?;
        let classes: Vec<_> = declared.iter().map(|d| d.lock).collect();
        let lock = match (w.lock, old.complete()) {
            (Some(forms), None) if old.is_empty() => forms
                .iter()
                .enumerate()
                .map(|(i, f)| f.placement_in(&classes).map_err(|e| format!("lock number {}: {}", i + 1, e.message)))
                .collect::<Result<Vec<_>, _>>()?,
            (None, Some(old)) => old.placements(),
            (Some(_), _) => {
                return Err(format!(
                    "policy '{}' gives both [[lock]] placements and the older per-lock fields ({}); give one form",
                    w.name,
                    old.given().join(", ")
                ));
            }
            (None, None) => {
                let missing = old.missing();
                return Err(format!(
                    "policy '{}': no [[lock]] placements{}",
                    w.name,
                    if old.is_empty() {
                        String::new()
                    } else {
                        format!(" and an incomplete older per-lock form: missing field `{}`", missing.join("`, `"))
                    }
                ));
            }
        };
        Ok(Policy {
            name: w.name,
            fault_lock_name: w.fault_lock_name,
            fault_recheck_i_size: w.fault_recheck_i_size,
            write_copy_may_fault: w.write_copy_may_fault,
            collapse_flush_outside_lock: w.collapse_flush_outside_lock,
            dax_zeroing: w.dax_zeroing,
            write_alloc: w.write_alloc,
            reclaim_skips_pinned: w.reclaim_skips_pinned,
            dio_read_fence: w.dio_read_fence,
            dio_read_delalloc: w.dio_read_delalloc,
            dio_write_post_invalidate: w.dio_write_post_invalidate,
            buffered_write_map: w.buffered_write_map,
            disksize_i_data_sem: w.disksize_i_data_sem,
            update_disksize_before_punch: w.update_disksize_before_punch,
            journal_data: w.journal_data,
            delalloc_files_inode: w.delalloc_files_inode,
            mkwrite_files_inode: w.mkwrite_files_inode,
            dax_break_layouts: w.dax_break_layouts,
            failed_write_cleanup: w.failed_write_cleanup,
            dio_write_past_eof: w.dio_write_past_eof,
            pagecache_isize_extended: w.pagecache_isize_extended,
            fallocate_isize_extended: w.fallocate_isize_extended,
            fallocate_truncate_pagecache: w.fallocate_truncate_pagecache,
            truncate_up_zero_eof: w.truncate_up_zero_eof,
            truncate_flush_new_eof: w.truncate_flush_new_eof,
            iomap_zero_flush_unwritten: w.iomap_zero_flush_unwritten,
            dio_unaligned: w.dio_unaligned,
            punch_hole_flush: w.punch_hole_flush,
            zero_range_flush: w.zero_range_flush,
            alloc_retry_commit: w.alloc_retry_commit,
            alloc_retry_dio_dax: w.alloc_retry_dio_dax,
            writeback_size_sample: w.writeback_size_sample,
            writeback_clean_buffers: w.writeback_clean_buffers,
            dio_invalidate_busy: w.dio_invalidate_busy,
            dio_read_dirty: w.dio_read_dirty,
            dio_extend_size: w.dio_extend_size,
            dio_submit_invalidate: w.dio_submit_invalidate,
            dio_pin_order: w.dio_pin_order,
            dio_read_invalidate: w.dio_read_invalidate,
            punch_partial_page: w.punch_partial_page,
            declared,
            lock,
        })
    }
}

impl From<Policy> for PolicyWire {
    fn from(p: Policy) -> PolicyWire {
        PolicyWire {
            name: p.name,
            fault_lock_name: p.fault_lock_name,
            fault_recheck_i_size: p.fault_recheck_i_size,
            write_copy_may_fault: p.write_copy_may_fault,
            collapse_flush_outside_lock: p.collapse_flush_outside_lock,
            dax_zeroing: p.dax_zeroing,
            write_alloc: p.write_alloc,
            reclaim_skips_pinned: p.reclaim_skips_pinned,
            dio_read_fence: p.dio_read_fence,
            dio_read_delalloc: p.dio_read_delalloc,
            dio_write_post_invalidate: p.dio_write_post_invalidate,
            buffered_write_map: p.buffered_write_map,
            disksize_i_data_sem: p.disksize_i_data_sem,
            update_disksize_before_punch: p.update_disksize_before_punch,
            journal_data: p.journal_data,
            delalloc_files_inode: p.delalloc_files_inode,
            mkwrite_files_inode: p.mkwrite_files_inode,
            dax_break_layouts: p.dax_break_layouts,
            failed_write_cleanup: p.failed_write_cleanup,
            dio_write_past_eof: p.dio_write_past_eof,
            pagecache_isize_extended: p.pagecache_isize_extended,
            fallocate_isize_extended: p.fallocate_isize_extended,
            fallocate_truncate_pagecache: p.fallocate_truncate_pagecache,
            truncate_up_zero_eof: p.truncate_up_zero_eof,
            truncate_flush_new_eof: p.truncate_flush_new_eof,
            iomap_zero_flush_unwritten: p.iomap_zero_flush_unwritten,
            dio_unaligned: p.dio_unaligned,
            punch_hole_flush: p.punch_hole_flush,
            zero_range_flush: p.zero_range_flush,
            alloc_retry_commit: p.alloc_retry_commit,
            alloc_retry_dio_dax: p.alloc_retry_dio_dax,
            writeback_size_sample: p.writeback_size_sample,
            writeback_clean_buffers: p.writeback_clean_buffers,
            dio_invalidate_busy: p.dio_invalidate_busy,
            dio_read_dirty: p.dio_read_dirty,
            dio_extend_size: p.dio_extend_size,
            dio_submit_invalidate: p.dio_submit_invalidate,
            dio_pin_order: p.dio_pin_order,
            dio_read_invalidate: p.dio_read_invalidate,
            punch_partial_page: p.punch_partial_page,
            fault_lock_whole_fault: None,
            page_create_lock: None,
            mkwrite_fault_lock: None,
            mkwrite_range_lock: None,
            write_range_lock: None,
            write_i_rwsem: None,
            invalidation_lock: None,
            collapse_lock_to_eof: None,
            dax_fault_lock: None,
            wait_for_dio: None,
            dio_read_i_rwsem: None,
            dio_range_lock: None,
            lock_class: p.declared.iter().map(LockClassForm::from).collect(),
            lock: Some(p.lock.iter().map(PlacementForm::from).collect()),
        }
    }
}

impl Policy {
    /// Bit `f` set: some placement lies in function `f` (the engine skips the others).
    pub fn functions_mask(&self) -> u32 {
        self.lock.iter().fold(0, |mask, p| mask | (1 << p.func() as u32))
    }

    /// The lock classes this policy declares.
    pub fn declared_locks(&self) -> Vec<crate::lock::DeclaredLock> {
        self.declared.iter().map(|d| d.lock).collect()
    }

    /// The points at which some placement begins.
    pub fn begin_points(&self) -> crate::placement::PointSet {
        let mut set = crate::placement::PointSet::default();
        self.lock.iter().for_each(|p| set.insert(p.from));
        set
    }
}

/// Names of the built-in policies, in the order reports list them. Their definitions are the
/// files in `policies/` at the root of the repository, loaded by `racesim-scenario` through the
/// same parser as a user's policy file.
pub const BUILTIN_POLICIES: [&str; 4] = ["legacy", "mmaplock", "range_lock", "invalidate_lock"];

/// The library of real kernels: every built-in by the name users guess, with the policy it is.
/// The four names above stay the names of their policies (scenario expectations and traces use
/// them); the kernel names are aliases of them. The XFS policies are built-ins of their own.
pub const LIBRARY: [(&str, &str); 8] = [
    ("ext4-4.4", "legacy"),
    ("ext4-4.5", "mmaplock"),
    ("xfs-4.1", "xfs-4.1"),
    ("xfs-5.3", "xfs-5.3"),
    ("linux-5.15", "invalidate_lock"),
    ("kara-rfc-2013", "range_lock"),
    ("ext4-5.15", "invalidate_lock"),
    ("range-lock-rfc", "range_lock"),
];

/// Every built-in by its own name: the four above, then the kernels that have no older name.
pub const ALL_BUILTINS: [&str; 6] = ["legacy", "mmaplock", "range_lock", "invalidate_lock", "xfs-4.1", "xfs-5.3"];

/// The built-in a name (a built-in's own name or a library alias) stands for.
pub fn resolve_builtin(name: &str) -> Option<&'static str> {
    ALL_BUILTINS
        .iter()
        .copied()
        .find(|n| *n == name)
        .or_else(|| LIBRARY.iter().find(|(alias, _)| *alias == name).map(|(_, n)| *n))
}

pub mod old_form;
