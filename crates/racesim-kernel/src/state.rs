//! The state of the virtual kernel: disk, block allocator, inodes (size, block map, page
//! cache), page frames, address spaces (VMAs and PTEs) and locks.
//!
//! This module owns the data and the primitive transitions on it (allocate a block, add a page
//! to the cache, zap PTEs...). It does not know about scheduling or policies: the kernel
//! functions in [`crate::ops`] sequence these transitions into atomic steps. Everything is
//! plain owned data in `Vec`s indexed by small integers, so the whole state is `Clone + Eq +
//! Hash` (for state caching by a future exhaustive explorer) and cheap to reset per schedule.

use crate::lock::{DeclaredLock, FairLock, LockClass, LockId};
use crate::types::{Extent, Ino, Lblk, MmId, PageId, PageRange, Pblk, Token};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Kernel {
    /// Content of every physical block.
    pub disk: Vec<Token>,
    /// Who owns each physical block: `Some((ino, lblk))` when allocated to a file.
    pub block_owner: Vec<Option<(Ino, Lblk)>>,
    /// Free blocks; allocation pops from the end, freeing pushes: LIFO reuse, so a freed block
    /// is the very next one handed out (ext4's and XFS's allocators often behave so for a
    /// just-freed extent; it makes reuse races visible with two actors).
    pub free_blocks: Vec<Pblk>,
    pub inodes: Vec<Inode>,
    /// Page frames, never reused within an execution.
    pub pages: Vec<Page>,
    pub mms: Vec<Mm>,
    pub locks: Vec<FairLock>,
    /// The jbd2 journal, for placements of journal handles (one filesystem in the model).
    pub journal: LockId,
    /// On-disk metadata and what the journal committed (`crate::journal`); off, and empty,
    /// unless the scenario commits or crashes.
    pub durable: crate::journal::Durability,
    /// The references `get_user_pages` holds on DAX pages, per block ([`LockClass::DaxPin`]).
    pub dax_pin: LockId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inode {
    /// `i_size`, in blocks ([`Inode::blocks_per_page`] of them to a page; in pages when that
    /// is 1, the default).
    pub i_size: Lblk,
    /// EOF lies half-way into block `i_size - 1`: `i_size` above is rounded up to whole blocks
    /// (the block that straddles EOF is inside it, as `i_size_read() + blocksize - 1 >> blkbits`
    /// counts in Linux), and this says that block's tail half is past EOF. Set by a truncate to
    /// half a block and by a write(2) that ends half-way into a block it grows the file to
    /// (docs/model.md, "An EOF inside a block"); false everywhere else.
    pub eof_half: bool,
    /// A fact of the scenario, not state: some operation may leave EOF half-way into a block of
    /// this file. Paths whose behaviour depends on [`Inode::eof_half`] (writeback's zeroing of
    /// the straddling page) then declare their read of `i_size`; files without it keep their
    /// steps and events.
    pub eof_half_reachable: bool,
    /// Blocks per page: 1 (block size = page size, the default) or 2 or 4 (2 KiB or 1 KiB
    /// blocks on 4 KiB pages). Where it is above 1, every [`Lblk`] of the file (its block map,
    /// `i_size`, the data tokens, the operations' offsets and the events that name a block) is
    /// a block number, and page indices (`cache`, PTEs, `Page::index`) are `lblk /
    /// blocks_per_page`; each page then carries one [`BufferHead`] per block.
    pub blocks_per_page: Lblk,
    /// DAX mode: no page cache; faults map disk blocks directly.
    pub dax: bool,
    /// Block map, one entry per logical block up to the model's page limit (a file with
    /// blocks smaller than a page has at most `FILE_PAGES_MAX / blocks_per_page` pages).
    pub blocks: Vec<Extent>,
    /// The page cache (`address_space` radix tree): index -> page frame.
    pub cache: Vec<Option<PageId>>,
    /// In-flight direct IOs (`i_dio_count`), as a lock each DIO holds shared.
    pub i_dio_count: LockId,
    /// `EXT4_STATE_DIOREAD_LOCK`: unlocked direct reads must fall back to locked DIO (set by
    /// `ext4_inode_block_unlocked_dio`, cleared by `ext4_inode_resume_unlocked_dio`).
    pub dioread_lock: bool,
    pub i_rwsem: LockId,
    pub fault_lock: LockId,
    pub range_lock: LockId,
    pub i_mmap_rwsem: LockId,
    pub dax_entry: LockId,
    /// The objects of the lock classes the policy declares, by slot (empty when it declares
    /// none: no cost).
    pub declared: Vec<LockId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    pub ino: Ino,
    pub index: Lblk,
    /// `page->mapping != NULL`: still in the page cache. Cleared by truncation.
    pub attached: bool,
    pub uptodate: bool,
    pub dirty: bool,
    pub writeback: bool,
    pub content: Token,
    /// Block cached in the page's buffer heads (`bh->b_blocknr`), set by `get_block` in
    /// `write_begin`/`page_mkwrite`. Writeback writes here without consulting the block map,
    /// which is exactly why a page that outlives its block corrupts the disk.
    pub buffer_pblk: Option<Pblk>,
    /// `page_has_buffers`: buffer heads are attached. `write_begin` and `page_mkwrite` attach
    /// them before they dirty the page; reclaim strips them from a clean page
    /// (`try_to_release_page`) and truncation drops them. ext4 tracks dirtiness and delalloc
    /// reservations in them, so a dirty page without buffers is one ext4 cannot write back.
    pub buffers: bool,
    /// `page_maybe_dma_pinned`: direct IOs holding the page pinned (`get_user_pages` /
    /// FOLL_PIN) until their completion. A pin keeps the frame alive, not the page in the
    /// cache: truncation still removes it, reclaim cannot free it.
    pub pins: u8,
    pub lock: LockId,
    /// The buffer heads of a page of a file with blocks smaller than a page, one per block
    /// (empty where block size equals page size: `content`, `buffer_pblk` and `uptodate` are
    /// the page's one buffer then). `content` above is unused when this is not empty.
    pub bh: Vec<BufferHead>,
}

/// One `struct buffer_head` of a page whose blocks are smaller than it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferHead {
    /// The bytes of this block in the page (what a load through a PTE sees).
    pub content: Token,
    /// `BH_Mapped` with `b_blocknr`: the block `get_block` cached here. Writeback writes here
    /// without consulting the block map; an unmapped buffer over a hole is skipped.
    pub mapped: Option<Pblk>,
    /// `BH_Uptodate`: the buffer holds the block's data. Every buffer of an uptodate page is;
    /// of a page that is not, only the blocks a write(2) copied into (`__block_commit_write`
    /// marks the page uptodate once every buffer is). `block_read_full_page` reads only the
    /// others, and writeback writes only these (a buffer that is not uptodate is never dirty).
    pub uptodate: bool,
    /// `BH_Dirty`: the buffer holds data its block does not have yet. `set_page_dirty`
    /// (`__set_page_dirty_buffers`: a store's `page_mkwrite`, `page_mkclean` finding a writable
    /// or dirty PTE, a dirty PTE zapped, `set_page_dirty_lock`) dirties every buffer of the page ([`Kernel::set_page_dirty`]);
    /// write(2)'s `__block_commit_write`, `page_zero_new_buffers` and the zeroing of part of a
    /// block only the buffers they wrote (`mark_buffer_dirty`, [`Kernel::mark_buffer_dirty`]).
    /// ext4's writeback writes the dirty buffers of a dirty page and cleans them; XFS writes
    /// every uptodate one (the policy's `writeback_clean_buffers`). A clean buffer holds what
    /// its block held when it was read, unless a direct write changed the block since.
    pub dirty: bool,
}

/// What a PTE points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PteTarget {
    Page(PageId),
    /// A DAX mapping of a disk block.
    Pfn(Pblk),
    /// The shared zero page (DAX read fault on a hole).
    ZeroPage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pte {
    pub target: PteTarget,
    pub writable: bool,
    pub dirty: bool,
}

/// A shared file mapping: `npages` pages of inode `ino` starting at file page `pgoff`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Vma {
    pub ino: Ino,
    pub pgoff: Lblk,
    pub npages: Lblk,
    /// PTEs, one per page of the VMA.
    pub ptes: Vec<Option<Pte>>,
    /// `VM_LOCKED`, per page of the VMA: mlock(2) sets it on its range (`mlock_fixup` splits
    /// the VMA at the range's edges, so the flag is per page here), and `madvise_remove`
    /// refuses a locked VMA ("if (vma->vm_flags & VM_LOCKED) return -EINVAL"). A new mapping
    /// starts unlocked (no `mlockall(MCL_FUTURE)` in the model).
    pub locked: Vec<bool>,
}

impl Vma {
    /// A shared mapping of `npages` pages of `ino` from page `pgoff`, with no PTEs yet.
    pub fn new(ino: Ino, pgoff: Lblk, npages: Lblk) -> Vma {
        Vma { ino, pgoff, npages, ptes: vec![None; npages as usize], locked: vec![false; npages as usize] }
    }

    /// Whether `VM_LOCKED` is set on the part of the VMA that maps file page `index`.
    pub fn is_locked(&self, index: Lblk) -> bool {
        self.maps(index) && self.locked[(index - self.pgoff) as usize]
    }

    /// Whether the VMA maps file page `index` (through its `vm_pgoff`).
    pub fn maps(&self, index: Lblk) -> bool {
        index >= self.pgoff && index < self.pgoff + self.npages
    }

    /// Whether the VMA maps every page of `[page, page + pages)`.
    pub fn maps_range(&self, page: Lblk, pages: Lblk) -> bool {
        page >= self.pgoff && page + pages <= self.pgoff + self.npages
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mm {
    pub mmap_sem: LockId,
    /// At most one mapping per inode per mm in this model; `None` once unmapped.
    pub vmas: Vec<Option<Vma>>,
}

/// Buffer heads a page of a file with `blocks_per_page` blocks to a page carries in
/// [`Page::bh`]: none where a block is a page.
fn bh_count(blocks_per_page: Lblk) -> usize {
    if blocks_per_page > 1 { blocks_per_page as usize } else { 0 }
}

impl Inode {
    /// `i_size` in pages, rounded up: the page that straddles EOF is inside it (a fault there
    /// succeeds). The same number as `i_size` where a block is a page.
    pub fn i_size_pages(&self) -> Lblk {
        self.i_size.div_ceil(self.blocks_per_page)
    }
}

/// Limits of the model, named with their unit last.
pub const FILE_PAGES_MAX: Lblk = 64;

impl Kernel {
    /// An empty kernel with `disk_blocks` free blocks, each holding leftovers of a previous
    /// owner.
    pub fn new(disk_blocks: Pblk) -> Self {
        Kernel {
            disk: (0..disk_blocks).map(|pblk| Token::Leftover { pblk }).collect(),
            block_owner: vec![None; disk_blocks as usize],
            // Reversed so that allocation hands out low block numbers first.
            free_blocks: (0..disk_blocks).rev().collect(),
            inodes: Vec::new(),
            pages: Vec::new(),
            mms: Vec::new(),
            locks: vec![FairLock::new(LockClass::Journal), FairLock::new(LockClass::DaxPin)],
            journal: 0,
            durable: crate::journal::Durability::default(),
            dax_pin: 1,
        }
    }

    fn new_lock(&mut self, class: LockClass) -> LockId {
        self.locks.push(FairLock::new(class));
        (self.locks.len() - 1) as LockId
    }

    pub fn add_inode(&mut self, dax: bool) -> Ino {
        let ino = self.inodes.len() as Ino;
        let inode = Inode {
            i_size: 0,
            eof_half: false,
            eof_half_reachable: false,
            blocks_per_page: 1,
            dax,
            blocks: vec![Extent::Hole; FILE_PAGES_MAX as usize],
            cache: vec![None; FILE_PAGES_MAX as usize],
            i_dio_count: self.new_lock(LockClass::DioCount(ino)),
            dioread_lock: false,
            i_rwsem: self.new_lock(LockClass::IRwsem(ino)),
            fault_lock: self.new_lock(LockClass::FaultLock(ino)),
            range_lock: self.new_lock(LockClass::RangeLock(ino)),
            i_mmap_rwsem: self.new_lock(LockClass::IMmapRwsem(ino)),
            dax_entry: self.new_lock(LockClass::DaxEntry(ino)),
            declared: Vec::new(),
        };
        self.inodes.push(inode);
        ino
    }

    /// Gives every inode an object of each lock class the policy declares. Called once the
    /// scenario's files exist; the new locks come after every lock already made, so a policy
    /// that declares nothing leaves the kernel as it was.
    pub fn declare_locks(&mut self, declared: &[DeclaredLock]) {
        for ino in 0..self.inodes.len() {
            for d in declared {
                let id = self.new_lock(LockClass::Declared(*d, ino as Ino));
                self.inodes[ino].declared.push(id);
            }
        }
    }

    pub fn add_mm(&mut self) -> MmId {
        let mm = self.mms.len() as MmId;
        let mmap_sem = self.new_lock(LockClass::MmapSem(mm));
        self.mms.push(Mm { mmap_sem, vmas: Vec::new() });
        mm
    }

    /// The state with its page frames (and their page locks) renumbered in a canonical order:
    /// by file, then index, then allocation order. Frame numbers are handed out in allocation
    /// order, and two page-cache insertions into different slots by different actors commute
    /// (their footprints do not conflict), so equivalent interleavings can end with the same
    /// pages under different numbers. The order of the insertions into one slot is fixed by
    /// their conflict on it, so this form is the same for every member of a trace; comparing
    /// outcomes of different searches compares it (docs/exhaustive.md, "Soundness").
    pub fn canonical(&self) -> Kernel {
        let mut order: Vec<usize> = (0..self.pages.len()).collect();
        order.sort_by_key(|&p| (self.pages[p].ino, self.pages[p].index, p));
        let mut page_to = vec![0 as PageId; self.pages.len()];
        for (new, &old) in order.iter().enumerate() {
            page_to[old] = new as PageId;
        }
        // The other locks keep their order; the page locks follow them in the new page order.
        let is_page_lock = |l: &FairLock| matches!(l.class, LockClass::Page(_));
        let mut lock_order: Vec<usize> = (0..self.locks.len()).filter(|&l| !is_page_lock(&self.locks[l])).collect();
        lock_order.extend(order.iter().map(|&p| self.pages[p].lock as usize));
        assert_eq!(lock_order.len(), self.locks.len(), "model bug: a page lock without its page");
        let mut lock_to = vec![0 as LockId; self.locks.len()];
        for (new, &old) in lock_order.iter().enumerate() {
            lock_to[old] = new as LockId;
        }
        let page = |p: PageId| page_to[p as usize];
        let lock = |l: LockId| lock_to[l as usize];
        // Every field that holds a frame or lock number is renumbered below; these patterns
        // stop compiling when a field is added, so that a new reference is not forgotten.
        // `durable` holds no frame or lock numbers.
        let Kernel {
            disk: _,
            block_owner: _,
            free_blocks: _,
            inodes: _,
            pages: _,
            mms: _,
            locks: _,
            journal: _,
            durable: _,
            dax_pin: _,
        } = self;
        let mut k = self.clone();
        k.pages = order
            .iter()
            .map(|&p| {
                let Page {
                    ino: _,
                    index: _,
                    attached: _,
                    uptodate: _,
                    dirty: _,
                    writeback: _,
                    content: _,
                    buffer_pblk: _,
                    buffers: _,
                    pins: _,
                    lock: l,
                    bh: _,
                } = &self.pages[p];
                let l = *l;
                Page { lock: lock(l), ..self.pages[p].clone() }
            })
            .collect();
        k.locks = lock_order
            .iter()
            .map(|&l| {
                let mut fair = self.locks[l].clone();
                if let LockClass::Page(p) = fair.class {
                    fair.class = LockClass::Page(page(p));
                }
                fair
            })
            .collect();
        k.journal = lock(self.journal);
        for inode in &mut k.inodes {
            let Inode {
                i_size: _,
                eof_half: _,
                eof_half_reachable: _,
                blocks_per_page: _,
                dax: _,
                blocks: _,
                cache: _,
                i_dio_count: _,
                dioread_lock: _,
                i_rwsem: _,
                fault_lock: _,
                range_lock: _,
                i_mmap_rwsem: _,
                dax_entry: _,
                declared: _,
            } = inode;
            for slot in inode.cache.iter_mut().flatten() {
                *slot = page(*slot);
            }
            for l in [
                &mut inode.i_dio_count,
                &mut inode.i_rwsem,
                &mut inode.fault_lock,
                &mut inode.range_lock,
                &mut inode.i_mmap_rwsem,
                &mut inode.dax_entry,
            ] {
                *l = lock(*l);
            }
            for l in inode.declared.iter_mut() {
                *l = lock(*l);
            }
        }
        for mm in &mut k.mms {
            let Mm { mmap_sem: _, vmas: _ } = mm;
            mm.mmap_sem = lock(mm.mmap_sem);
            for pte in mm.vmas.iter_mut().flatten().flat_map(|v| v.ptes.iter_mut().flatten()) {
                if let PteTarget::Page(p) = pte.target {
                    pte.target = PteTarget::Page(page(p));
                }
            }
        }
        k
    }

    pub fn inode(&self, ino: Ino) -> &Inode {
        &self.inodes[ino as usize]
    }
    pub fn inode_mut(&mut self, ino: Ino) -> &mut Inode {
        &mut self.inodes[ino as usize]
    }
    pub fn page(&self, page: PageId) -> &Page {
        &self.pages[page as usize]
    }
    pub fn page_mut(&mut self, page: PageId) -> &mut Page {
        &mut self.pages[page as usize]
    }

    /// Hands out the most recently freed block. `None` is ENOSPC.
    /// Allocates a block for `lblk` of `ino` and, where durability is modelled, files the inode
    /// with the running transaction ([`crate::Kernel::jbd2_file_inode`]): `ext4_map_blocks`
    /// does for every new block since 06bd3c36a733 (Linux 4.7), and `ext4_write_end`'s
    /// `ext4_jbd2_file_inode` did before it for the nodelalloc writes the built-ins make.
    pub fn alloc_block(&mut self, ino: Ino, lblk: Lblk) -> Option<Pblk> {
        let pblk = self.alloc_block_unfiled(ino, lblk)?;
        self.jbd2_file_inode(ino);
        Some(pblk)
    }

    /// [`Kernel::alloc_block`] if `files_inode`, else [`Kernel::alloc_block_unfiled`]: for the
    /// allocations whose filing a policy field decides (`delalloc_files_inode`,
    /// `mkwrite_files_inode`).
    pub fn alloc_block_filing(&mut self, ino: Ino, lblk: Lblk, files_inode: bool) -> Option<Pblk> {
        if files_inode { self.alloc_block(ino, lblk) } else { self.alloc_block_unfiled(ino, lblk) }
    }

    /// Allocates a block without filing the inode with the running transaction: delalloc
    /// writeback in ext4 3.8-4.6 (`delalloc_files_inode = false`, f3b59291a69d), and
    /// `ext4_page_mkwrite` without delayed allocation from 2011 (9ea7df534ed2) to 4.6 (`mkwrite_files_inode =
    /// false`, 9ea7df534ed2).
    ///
    /// A block for a delayed allocation (`lblk` is [`Extent::Delalloc`]) takes the block its
    /// reservation promised; any other allocation may take only a free block no reservation
    /// has promised (`ext4_claim_free_clusters` checks `free - dirty`; XFS took the reserved
    /// blocks out of `fdblocks` when it reserved them).
    pub fn alloc_block_unfiled(&mut self, ino: Ino, lblk: Lblk) -> Option<Pblk> {
        let converts_reservation = self.inodes[ino as usize].blocks[lblk as usize] == Extent::Delalloc;
        if !converts_reservation && self.unreserved_free_blocks() == 0 {
            return None;
        }
        let pblk = self.free_blocks.pop()?;
        debug_assert!(self.block_owner[pblk as usize].is_none(), "model bug: free block {pblk} has an owner");
        self.block_owner[pblk as usize] = Some((ino, lblk));
        Some(pblk)
    }

    /// Delayed allocations of every file: blocks promised to writeback that no block backs
    /// yet (ext4's `s_dirtyclusters_counter`; the blocks XFS's `xfs_bmapi_reserve_delalloc`
    /// took out of `fdblocks`). Counted from the block maps, so every path that makes or
    /// drops a reservation keeps it right.
    pub fn delalloc_reserved(&self) -> usize {
        self.inodes.iter().map(|inode| inode.blocks.iter().filter(|&&e| e == Extent::Delalloc).count()).sum()
    }

    /// Free blocks that no delayed allocation has promised (`ext4_has_free_clusters`'s
    /// `free_clusters - dirty_clusters`). Blocks freed in a transaction that has not committed
    /// are not free yet ([`crate::journal`]).
    pub fn unreserved_free_blocks(&self) -> usize {
        self.free_blocks.len().saturating_sub(self.delalloc_reserved())
    }

    /// `ext4_da_reserve_space` / `xfs_mod_fdblocks`: may `count` more blocks be promised to
    /// delayed allocation? `false` is ENOSPC. The caller turns the holes into
    /// [`Extent::Delalloc`], which is the reservation.
    pub fn can_reserve_delalloc(&self, count: usize) -> bool {
        self.unreserved_free_blocks() >= count
    }

    pub fn free_block(&mut self, pblk: Pblk) {
        assert!(self.block_owner[pblk as usize].is_some(), "model bug: double free of block {pblk}");
        self.block_owner[pblk as usize] = None;
        if self.durable.enabled {
            // Not reusable before the transaction that freed it commits (crate::journal).
            self.durable.freed.push(pblk);
        } else {
            self.free_blocks.push(pblk);
        }
    }

    /// Whether `get_user_pages` holds a reference on the DAX page of block `pblk`
    /// (`page_ref_count(page) > 1` in `dax_busy_page`).
    pub fn dax_pinned(&self, pblk: Pblk) -> bool {
        self.locks[self.dax_pin as usize]
            .requests
            .iter()
            .any(|r| r.granted && r.mode == crate::lock::LockMode::Shared && r.range.overlaps(PageRange::page(pblk)))
    }

    /// Adds a new, locked-by-nobody, not-uptodate page to the cache.
    pub fn add_page(&mut self, ino: Ino, index: Lblk) -> PageId {
        let id = self.pages.len() as PageId;
        let lock = self.new_lock(LockClass::Page(id));
        self.pages.push(Page {
            ino,
            index,
            attached: true,
            uptodate: false,
            dirty: false,
            writeback: false,
            content: Token::Zero,
            buffer_pblk: None,
            buffers: false,
            pins: 0,
            lock,
            bh: vec![
                BufferHead { content: Token::Zero, mapped: None, uptodate: false, dirty: false };
                bh_count(self.inodes[ino as usize].blocks_per_page)
            ],
        });
        let slot = &mut self.inodes[ino as usize].cache[index as usize];
        assert!(slot.is_none(), "model bug: page cache slot {ino}:{index} already filled");
        *slot = Some(id);
        id
    }

    /// `set_page_dirty` on a page of the page cache: the page, and on a page of smaller blocks
    /// every buffer of it (`__set_page_dirty_buffers`, ext4's `set_page_dirty` and the
    /// buffer-head default).
    pub fn set_page_dirty(&mut self, page: PageId) {
        let p = self.page_mut(page);
        p.dirty = true;
        for bh in &mut p.bh {
            bh.dirty = true;
        }
    }

    /// `mark_buffer_dirty` on buffer `slot` of a page of smaller blocks: the buffer and its page
    /// (`__set_page_dirty`), not the page's other buffers.
    pub fn mark_buffer_dirty(&mut self, page: PageId, slot: Lblk) {
        let p = self.page_mut(page);
        p.dirty = true;
        p.bh[slot as usize].dirty = true;
    }

    /// `delete_from_page_cache` after truncation or invalidation removed the page: it leaves
    /// its slot with its buffer heads and dirty bit. Returns whether it was dirty (data lost).
    pub fn delete_from_page_cache(&mut self, page: PageId) -> bool {
        let p = &mut self.pages[page as usize];
        let dirty = p.dirty;
        p.attached = false;
        p.dirty = false;
        p.buffer_pblk = None;
        p.buffers = false;
        // Truncation drops the buffer heads (`block_invalidatepage` discards each one).
        for bh in &mut p.bh {
            bh.mapped = None;
            bh.dirty = false;
        }
        let (ino, index) = (p.ino, p.index);
        self.inodes[ino as usize].cache[index as usize] = None;
        dirty
    }

    /// What a read of the block map at `lblk` returns: zeroes for holes and unwritten extents.
    pub fn read_block(&self, ino: Ino, lblk: Lblk) -> (Extent, Token) {
        let extent = self.inode(ino).blocks[lblk as usize];
        let token = match extent {
            Extent::Written(p) => self.disk[p as usize],
            Extent::Hole | Extent::Delalloc | Extent::Unwritten(_) => Token::Zero,
        };
        (extent, token)
    }

    /// Every PTE (in any mm) that maps file page `index` of `ino`, as (mm, vma slot, pte slot).
    pub fn ptes_of(&self, ino: Ino, index: Lblk) -> Vec<(MmId, usize, usize)> {
        let mut found = Vec::new();
        for (mm_id, mm) in self.mms.iter().enumerate() {
            for (vma_slot, vma) in mm.vmas.iter().enumerate() {
                let Some(vma) = vma else { continue };
                if vma.ino != ino || !vma.maps(index) {
                    continue;
                }
                let pte_slot = (index - vma.pgoff) as usize;
                if vma.ptes[pte_slot].is_some() {
                    found.push((mm_id as MmId, vma_slot, pte_slot));
                }
            }
        }
        found
    }

    /// `zap_page_range` for the pages of `ino` in `[start, end)` in every mm: removes the PTEs,
    /// moving a PTE dirty bit to its page (`set_page_dirty` in `zap_pte_range`). Returns how
    /// many PTEs went.
    pub fn zap_ptes(&mut self, ino: Ino, start: Lblk, end: Lblk) -> u32 {
        let mut zapped = 0;
        let mut dirtied = Vec::new();
        for mm in self.mms.iter_mut() {
            for vma in mm.vmas.iter_mut().flatten() {
                if vma.ino != ino {
                    continue;
                }
                for (slot, pte) in vma.ptes.iter_mut().enumerate() {
                    let index = vma.pgoff + slot as Lblk;
                    if index < start || index >= end {
                        continue;
                    }
                    if let Some(old) = pte.take() {
                        zapped += 1;
                        if let (PteTarget::Page(page), true) = (old.target, old.dirty) {
                            dirtied.push(page);
                        }
                    }
                }
            }
        }
        // zap_pte_range: "if (pte_dirty(ptent)) set_page_dirty(page)".
        for page in dirtied {
            self.set_page_dirty(page);
        }
        zapped
    }

    /// `page_mkclean`: write-protects every PTE mapping the page, so the next store faults
    /// into `page_mkwrite` again. Returns how many PTEs it touched.
    pub fn page_mkclean(&mut self, page: PageId) -> u32 {
        let mut cleaned = 0;
        for mm in self.mms.iter_mut() {
            for vma in mm.vmas.iter_mut().flatten() {
                for pte in vma.ptes.iter_mut().flatten() {
                    if pte.target == PteTarget::Page(page) && (pte.writable || pte.dirty) {
                        pte.writable = false;
                        pte.dirty = false;
                        cleaned += 1;
                    }
                }
            }
        }
        cleaned
    }

    /// The VMA of `mm` that maps `ino`, if any.
    pub fn vma_of(&self, mm: MmId, ino: Ino) -> Option<(usize, &Vma)> {
        self.mms[mm as usize]
            .vmas
            .iter()
            .enumerate()
            .find_map(|(slot, vma)| vma.as_ref().filter(|v| v.ino == ino).map(|v| (slot, v)))
    }

    pub fn pte(&self, mm: MmId, vma_slot: usize, index: Lblk) -> Option<Pte> {
        let vma = self.mms[mm as usize].vmas[vma_slot].as_ref()?;
        if !vma.maps(index) {
            return None;
        }
        vma.ptes[(index - vma.pgoff) as usize]
    }

    pub fn pte_mut(&mut self, mm: MmId, vma_slot: usize, index: Lblk) -> Option<&mut Option<Pte>> {
        let vma = self.mms[mm as usize].vmas[vma_slot].as_mut()?;
        if !vma.maps(index) {
            return None;
        }
        Some(&mut vma.ptes[(index - vma.pgoff) as usize])
    }

    /// The file content a quiescent, synced system would return for page `lblk` of `ino`:
    /// what the block map points at on disk (DAX and buffered files alike after a sync).
    pub fn persistent_content(&self, ino: Ino, lblk: Lblk) -> Token {
        self.read_block(ino, lblk).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_the_order_of_frame_allocation() {
        let setup = || {
            let mut k = Kernel::new(8);
            let ino = k.add_inode(false);
            k.add_mm();
            (k, ino)
        };
        // The same two pages added in either order, one of them dirtied.
        let (mut a, ino) = setup();
        let p0 = a.add_page(ino, 0);
        a.add_page(ino, 1);
        a.page_mut(p0).dirty = true;
        let (mut b, _) = setup();
        b.add_page(ino, 1);
        let q0 = b.add_page(ino, 0);
        b.page_mut(q0).dirty = true;
        assert_ne!(a, b);
        assert_eq!(a.canonical(), b.canonical());
        // Already in canonical order: unchanged.
        assert_eq!(a.canonical(), a);
        // A real difference stays one.
        b.page_mut(q0).dirty = false;
        assert_ne!(a.canonical(), b.canonical());
    }
}
