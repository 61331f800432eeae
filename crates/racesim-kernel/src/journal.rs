//! The on-disk side of the filesystem, for crash consistency: ext4's `i_disksize` next to
//! `i_size`, the metadata the last jbd2 commit made durable (each inode's size and block map),
//! and the blocks freed in the running transaction, which jbd2 keeps from reuse until it
//! commits.
//!
//! The model of durability is off unless a scenario commits or crashes (a `journal_commit` or
//! `crash` operation): then [`Durability::enabled`] is set when the scenario's kernel is built,
//! and the kernel functions update `i_disksize` where ext4 does and defer block reuse as jbd2
//! does. Off, nothing here is read or written, so scenarios without a crash run exactly the
//! steps they ran before this module existed. The kernel functions that use it are in
//! [`crate::ops::journal`]; the crash image is judged by `racesim_oracles`.

use crate::types::{Extent, Ino, Lblk, Pblk, Token, half_blocks};

/// What is durable, and what the running transaction will make durable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Durability {
    /// The scenario commits or crashes: `i_disksize`, deferred block reuse and commits are
    /// modelled. Fixed once the kernel is built (a fact `Cpu::peek` may read).
    pub enabled: bool,
    /// Per inode, by inode number.
    pub inodes: Vec<DiskInode>,
    /// Blocks freed in the running transaction. ext4 frees data blocks through
    /// `ext4_free_blocks` → `ext4_mb_free_metadata` whenever the data is journalled or ordered
    /// (`!ext4_should_writeback_data`), so that "we don't reuse freed blocks before the
    /// transaction that freed them commits"; the commit callback (`ext4_free_data_callback`)
    /// releases them. Modelled for every data mode (the data=writeback difference is not
    /// needed by any scenario).
    pub freed: Vec<Pblk>,
    /// The number of the last transaction locked for commit (jbd2's `j_commit_sequence` of
    /// the one most recently started), and of the last one whose commit record went to disk.
    /// Commit records reach the disk in transaction order, so a commit that finishes after a
    /// later transaction's record has nothing left to make durable: everything it locked is in
    /// the later transaction's metadata too.
    pub locked_tid: u32,
    pub committed_tid: u32,
}

/// One inode's on-disk metadata.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DiskInode {
    /// `EXT4_I(inode)->i_disksize`, in blocks: the size the inode in the running transaction
    /// says, which a commit writes to disk. Rounded up to whole blocks where it lies half-way
    /// into one, as `Inode::i_size` is.
    pub i_disksize: Lblk,
    /// `i_disksize` lies half-way into block `i_disksize - 1` (an EOF inside a block made
    /// durable: `Inode::eof_half`).
    pub i_disksize_half: bool,
    /// The number of the transaction the inode was last filed with for data=ordered writeout
    /// (jbd2's `jbd2_inode` on that transaction's `t_inode_list`, `ext4_jbd2_inode_add_write`);
    /// 0 for never. The running transaction is `locked_tid + 1`, so locking it for commit takes
    /// its list and leaves the next one empty.
    pub filed_tid: u32,
    /// The transaction a handle filed the inode with while `filed_tid` was being committed
    /// (jbd2's `i_next_transaction`: the inode stays on the committing transaction's list, so
    /// that its commit, and `jbd2_journal_begin_ordered_truncate`, still see it there); it
    /// becomes `filed_tid` when that commit ends. 0 for none.
    pub next_tid: u32,
    /// On the orphan list in the running transaction (`ext4_orphan_add` .. `ext4_orphan_del`):
    /// a change that left blocks past `i_disksize` is under way, and remount must finish it.
    pub orphan: bool,
    /// `locked_tid` when a shrinking truncate's `jbd2_journal_begin_ordered_truncate` last found
    /// the inode outside the committing transaction (`None`: never). A commit that locks
    /// after that check, and before the truncate's handle, is the window whose outcome is not
    /// settled (docs/model.md, "Crash and remount"): the crash oracle does not judge the blocks
    /// the truncate cuts off under such a commit.
    pub ordered_truncate_checked: Option<u32>,
    /// What the last commit made durable.
    pub committed: Committed,
}

/// An inode as the last jbd2 commit left it on disk: what remount finds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Committed {
    /// `i_disksize` at the commit.
    pub size: Lblk,
    /// That size lies half-way into block `size - 1`.
    pub half: bool,
    /// The block map at the commit. Delayed allocations are in-memory reservations, never on
    /// disk: they are holes here.
    pub blocks: Vec<Extent>,
    /// On the committed orphan list: `ext4_orphan_cleanup` truncates it at mount.
    pub orphan: bool,
}

impl Committed {
    /// The block map `blocks` as a commit writes it.
    pub fn of(size: Lblk, half: bool, blocks: &[Extent], orphan: bool) -> Committed {
        let blocks = blocks.iter().map(|&e| if e == Extent::Delalloc { Extent::Hole } else { e }).collect();
        Committed { size, half, blocks, orphan }
    }

    /// `ext4_orphan_cleanup` at mount, for this inode: on the orphan list (and linked: the
    /// model has no unlink), it is truncated to its size (`ext4_truncate`: every block past
    /// `i_disksize` freed) and taken off the list. The inode as remount leaves it.
    pub fn ext4_orphan_cleanup(&self) -> Committed {
        let mut inode = self.clone();
        if inode.orphan {
            for extent in inode.blocks.iter_mut().skip(inode.size as usize) {
                *extent = Extent::Hole;
            }
            inode.orphan = false;
        }
        inode
    }
}

/// A file after crash and remount: its committed size, and per page within it what a read
/// returns (the disk block the committed map points at, zeroes for holes and unwritten
/// extents), with the block it came from. Where the size lies half-way into its last block,
/// only that block's head is the file's: a read stops at EOF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remounted {
    pub size: Lblk,
    /// The size lies half-way into block `size - 1`.
    pub half: bool,
    pub pages: Vec<(Token, Option<Pblk>)>,
    /// Pages past the size that still map a block after orphan cleanup: blocks a crash left
    /// allocated beyond EOF (a leak, not an exposure: no read reaches them). Empty whenever
    /// the change that left them put the inode on the orphan list, as ext4 does.
    pub past_size: Vec<Lblk>,
}

impl crate::Kernel {
    /// Turns the durability model on: every inode's `i_disksize` and committed state start as
    /// its current size and block map (the scenario's files are on disk, clean, at start).
    /// Called once, after the scenario's files exist.
    pub fn enable_durability(&mut self) {
        self.durable.enabled = true;
        self.durable.inodes = self
            .inodes
            .iter()
            .map(|inode| DiskInode {
                i_disksize: inode.i_size,
                i_disksize_half: inode.eof_half,
                filed_tid: 0,
                next_tid: 0,
                orphan: false,
                ordered_truncate_checked: None,
                committed: Committed::of(inode.i_size, inode.eof_half, &inode.blocks, false),
            })
            .collect();
    }

    /// `i_disksize` of `ino` (durability on).
    pub fn i_disksize(&self, ino: Ino) -> Lblk {
        self.durable.inodes[ino as usize].i_disksize
    }

    /// Whether `i_disksize` of `ino` lies half-way into its last block.
    pub fn i_disksize_half(&self, ino: Ino) -> bool {
        self.durable.inodes[ino as usize].i_disksize_half
    }

    /// Whether a size of `size` blocks (`half`: half-way into the last) lies past `i_disksize`
    /// of `ino`: ext4's "pos + copied > EXT4_I(inode)->i_disksize", in half blocks.
    pub fn past_i_disksize(&self, ino: Ino, size: Lblk, half: bool) -> bool {
        let disk = &self.durable.inodes[ino as usize];
        half_blocks(size, half) > half_blocks(disk.i_disksize, disk.i_disksize_half)
    }

    /// Sets `i_disksize` of `ino` to `size` blocks (`half`: half-way into the last) if
    /// durability is modelled; returns whether it did.
    pub fn set_i_disksize(&mut self, ino: Ino, size: Lblk, half: bool) -> bool {
        if !self.durable.enabled {
            return false;
        }
        let disk = &mut self.durable.inodes[ino as usize];
        disk.i_disksize = size;
        disk.i_disksize_half = half;
        true
    }

    /// Raises `i_disksize` of `ino` to `size` blocks (`half`: half-way into the last) where that
    /// lies past it ("if (newsize > EXT4_I(inode)->i_disksize) EXT4_I(inode)->i_disksize =
    /// newsize"), durability on; returns `i_disksize` after, for the event that declares the
    /// step's read of both sizes whether or not it moved.
    pub fn raise_i_disksize(&mut self, ino: Ino, size: Lblk, half: bool) -> (Lblk, bool) {
        if self.past_i_disksize(ino, size, half) {
            self.set_i_disksize(ino, size, half);
        }
        (self.i_disksize(ino), self.i_disksize_half(ino))
    }

    /// `end` blocks capped by `i_size` of `ino` (writeback's "disksize = min(end, i_size)"), as
    /// `(blocks, half)`: an EOF inside a block caps it half-way into that block.
    pub fn capped_by_i_size(&self, ino: Ino, end: Lblk) -> (Lblk, bool) {
        let inode = self.inode(ino);
        if end < inode.i_size { (end, false) } else { (inode.i_size, inode.eof_half) }
    }

    /// `jbd2_journal_inode_add_write` (through `ext4_jbd2_inode_add_write`): puts `ino` on the
    /// running transaction's list of inodes whose new blocks' data a data=ordered commit writes
    /// before its commit record, if durability is modelled.
    ///
    /// Footprint: the value written depends only on `locked_tid`, which only the commit's
    /// locking step writes, and the only reader is that step (`TransactionLocked`, which reads
    /// every object). Two filings commute (both set the same value), so the allocation step
    /// that files needs no object of its own: its `BlockMapped` already orders it against the
    /// commit.
    pub fn jbd2_file_inode(&mut self, ino: Ino) {
        if self.durable.enabled {
            let running = self.durable.locked_tid + 1;
            let committed = self.durable.committed_tid;
            let disk = &mut self.durable.inodes[ino as usize];
            // jbd2_journal_file_inode: "if (jinode->i_transaction) { ... if
            // (jinode->i_transaction != transaction) jinode->i_next_transaction = transaction;"
            // an inode on a transaction being committed stays there until the commit ends.
            if disk.filed_tid > committed && disk.filed_tid < running {
                disk.next_tid = running;
            } else {
                disk.filed_tid = running;
            }
        }
    }

    /// The end of the commit of transaction `tid` (journal_finish_inode_data_buffers): an inode
    /// filed with the next transaction meanwhile moves there (`i_transaction =
    /// i_next_transaction`).
    pub fn jbd2_refile_inodes(&mut self, tid: u32) {
        for disk in &mut self.durable.inodes {
            if disk.next_tid != 0 && disk.filed_tid <= tid {
                disk.filed_tid = disk.next_tid;
                disk.next_tid = 0;
            }
        }
    }

    /// Whether `ino` is on the list of a transaction whose commit record is not on disk yet:
    /// the inodes a commit locked now writes out. The model lets a commit lock while an
    /// earlier one still writes its data (jbd2 commits one transaction at a time); the later
    /// commit then also writes the data of the inodes filed with the earlier one, whose blocks
    /// its metadata carries too.
    pub fn filed_uncommitted(&self, ino: Ino) -> bool {
        self.durable.inodes[ino as usize].filed_tid > self.durable.committed_tid
    }

    /// `ext4_orphan_add` (`add`) or `ext4_orphan_del` of `ino` in the running transaction, if
    /// durability is modelled; returns whether it did.
    pub fn set_orphan(&mut self, ino: Ino, add: bool) -> bool {
        if !self.durable.enabled {
            return false;
        }
        self.durable.inodes[ino as usize].orphan = add;
        true
    }

    /// What remount finds of `ino`: the committed size and map after `ext4_orphan_cleanup`,
    /// and the disk as it is now.
    pub fn remounted(&self, ino: Ino) -> Remounted {
        let committed = &self.durable.inodes[ino as usize].committed.ext4_orphan_cleanup();
        let pages = (0..committed.size)
            .map(|lblk| match committed.blocks[lblk as usize] {
                Extent::Written(p) => (self.disk[p as usize], Some(p)),
                Extent::Unwritten(p) => (Token::Zero, Some(p)),
                Extent::Hole | Extent::Delalloc => (Token::Zero, None),
            })
            .collect();
        let past_size = (committed.size..committed.blocks.len() as Lblk)
            .filter(|&lblk| committed.blocks[lblk as usize].pblk().is_some())
            .collect();
        Remounted { size: committed.size, half: committed.half, pages, past_size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ext4_orphan_cleanup frees what an interrupted truncate left past the committed size,
    /// and only for an inode on the committed orphan list.
    #[test]
    fn orphan_cleanup_truncates_past_the_committed_size() {
        let blocks = [Extent::Written(3), Extent::Written(4), Extent::Delalloc];
        let on_list = Committed::of(1, false, &blocks, true).ext4_orphan_cleanup();
        assert_eq!(on_list.blocks, vec![Extent::Written(3), Extent::Hole, Extent::Hole]);
        assert!(!on_list.orphan);
        let off_list = Committed::of(1, false, &blocks, false).ext4_orphan_cleanup();
        assert_eq!(off_list.blocks, vec![Extent::Written(3), Extent::Written(4), Extent::Hole]);
    }
}
