//! Page faults and user memory accesses through a shared file mapping: mmap, munmap, loads,
//! stores, `handle_mm_fault` → `filemap_fault` / `do_shared_fault` / `do_wp_page` →
//! `page_mkwrite` → `finish_fault`, and the DAX fault path.
//!
//! A store through a writable PTE is one step and takes no lock, as on real hardware. Anything
//! else faults; the fault runs under `mmap_sem` shared and takes what the policy says.

use super::locking::Held;
use super::{RETRIES_MAX, Retries, Task};
use crate::cpu::Cpu;
use crate::cpu::Machine;
use crate::event::{Change, Outcome, ReadFrom, ReadPath};
use crate::lock::{LockClass, LockMode};
use crate::placement::{Func, Point};
use crate::policy::{AllocKind, DaxZeroing};
use crate::state::{Pte, PteTarget, Vma};
use crate::types::{Extent, Ino, Lblk, MmId, PageId, PageRange, Pblk, Token, WriteId};

/// Why a fault did not install a PTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// `VM_FAULT_SIGBUS`: beyond EOF.
    Sigbus,
    /// No mapping there any more (munmap raced with the fault): SIGSEGV.
    Segv,
    /// `VM_FAULT_NOPAGE` / `VM_FAULT_RETRY`: the page went away under us; walk again.
    Retry,
    /// `VM_FAULT_SIGBUS` from `page_mkwrite` or a DAX write fault that found no space for the
    /// block (`block_page_mkwrite_return(-ENOSPC)`, `dax_fault_return(-ENOSPC)`): the process gets SIGBUS inside EOF; the
    /// operation's outcome says ENOSPC, so the reference model does not take it for a fault
    /// beyond EOF.
    NoSpace,
}

/// A reference `get_user_pages` took for a direct IO, one per page of its user buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    /// A page-cache page, pinned (FOLL_PIN) until the IO completes.
    Page(PageId),
    /// The DAX page of disk block `pblk`: the pin's `ticket` on the DAX pin object, and what the
    /// block held when it was pinned (the data a direct write sends, unless the block changes
    /// hands and content before the DMA reads it).
    Dax { pblk: Pblk, ticket: u32, token: Token },
    /// The zero page of a DAX hole (a direct write's source): nothing to pin.
    ZeroPage,
}

impl<C: Cpu> Task<'_, C> {
    pub fn mmap(&mut self, file: Ino) -> Outcome {
        let mmap_sem = self.cpu.peek(|m| m.kernel.mms[self.mm as usize].mmap_sem);
        let held = self.acquire("do_mmap", mmap_sem, LockMode::Exclusive, PageRange::WHOLE);
        let (actor, mm) = (self.actor, self.mm);
        self.cpu.step(|m| {
            let pages = m.kernel.inode(file).i_size_pages();
            let vma = Vma::new(file, 0, pages);
            let vmas = &mut m.kernel.mms[mm as usize].vmas;
            match vmas.iter_mut().find(|v| v.as_ref().is_some_and(|v| v.ino == file)) {
                Some(slot) => *slot = Some(vma),
                None => vmas.push(Some(vma)),
            }
            m.emit(actor, "mmap_region", Change::Mapped { mm, ino: file, pages });
        });
        self.release("do_mmap", held);
        Outcome::Ok
    }

    pub fn munmap(&mut self, file: Ino) -> Outcome {
        let mmap_sem = self.cpu.peek(|m| m.kernel.mms[self.mm as usize].mmap_sem);
        let held = self.acquire("do_munmap", mmap_sem, LockMode::Exclusive, PageRange::WHOLE);
        let (actor, mm) = (self.actor, self.mm);
        self.cpu.step(|m| {
            let mut dirtied = Vec::new();
            for slot in m.kernel.mms[mm as usize].vmas.iter_mut() {
                if let Some(vma) = slot.as_ref().filter(|v| v.ino == file) {
                    for pte in vma.ptes.iter().flatten() {
                        if let (PteTarget::Page(p), true) = (pte.target, pte.dirty) {
                            dirtied.push(p);
                        }
                    }
                    *slot = None;
                }
            }
            // zap_pte_range: "if (pte_dirty(ptent)) set_page_dirty(page)".
            for page in dirtied {
                m.kernel.set_page_dirty(page);
            }
            m.emit(actor, "unmap_region", Change::Unmapped { mm, ino: file });
        });
        self.release("do_munmap", held);
        Outcome::Ok
    }

    /// A load from page `index` of the mapping of `file`.
    pub fn load(&mut self, file: Ino, index: Lblk) -> Outcome {
        if self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page > 1) {
            return self.load_block(file, index);
        }
        let (actor, mm) = (self.actor, self.mm);
        self.user_access("load", file, index, false, |m| match pte_load(m, mm, file, index) {
            Some((token, from)) => {
                m.emit(actor, "load", Change::UserRead { ino: file, index, token, path: ReadPath::MmapLoad, from });
                true
            }
            None => false,
        })
    }

    /// A store to page `index` of the mapping of `file`. The store writes this operation's
    /// token; it retires in the step where it lands.
    pub fn store(&mut self, file: Ino, index: Lblk, write: WriteId) -> Outcome {
        if self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page > 1) {
            return self.store_block(file, index, write);
        }
        let actor = self.actor;
        let mm = self.mm;
        let token = Token::Data { ino: file, lblk: index, write };
        self.user_access("store", file, index, true, |m| match pte_store(m, mm, file, index, token) {
            Some(Some(pblk)) => {
                m.emit(actor, "store", Change::DiskWrite { pblk, ino: file, lblk: index, token, page: None });
                m.emit(actor, "store", Change::StoreRetired { ino: file, index, token });
                true
            }
            Some(None) => {
                m.emit(actor, "store", Change::StoreRetired { ino: file, index, token });
                true
            }
            None => false,
        })
    }

    /// A load from block `lblk` of a file whose blocks are smaller than a page: through the PTE
    /// of the page that holds it, which sees that block's bytes of the page. Past EOF inside the
    /// page that straddles it, the load sees what the page holds there (zeroes, or what a store
    /// of this mapping put there).
    fn load_block(&mut self, file: Ino, lblk: Lblk) -> Outcome {
        let (actor, mm) = (self.actor, self.mm);
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (index, slot) = (lblk / per_page, (lblk % per_page) as usize);
        self.user_access("load", file, index, false, |m| {
            let Some(pte) = m.kernel.vma_of(mm, file).and_then(|(v, _)| m.kernel.pte(mm, v, index)) else {
                return false;
            };
            let PteTarget::Page(p) = pte.target else { unreachable!("validated: no DAX file has sub-page blocks") };
            let token = m.kernel.page(p).bh[slot].content;
            // The access's footprint on the page's PTE (UserRead names the block).
            m.emit(actor, "load", Change::PteProbe { mm, ino: file, index, usable: true });
            let from = ReadFrom::Page(p);
            m.emit(actor, "load", Change::UserRead { ino: file, index: lblk, token, path: ReadPath::MmapLoad, from });
            true
        })
    }

    /// A store to block `lblk` of a file whose blocks are smaller than a page: through a
    /// writable PTE of the page that holds it, into that block's bytes of the page, whether or
    /// not a block is allocated under them (that was `page_mkwrite`'s business when it made the
    /// PTE writable, for the blocks inside EOF then).
    fn store_block(&mut self, file: Ino, lblk: Lblk, write: WriteId) -> Outcome {
        let (actor, mm) = (self.actor, self.mm);
        let per_page = self.cpu.peek(|m| m.kernel.inode(file).blocks_per_page);
        let (index, slot) = (lblk / per_page, (lblk % per_page) as usize);
        let token = Token::Data { ino: file, lblk, write };
        self.user_access("store", file, index, true, |m| {
            let Some(vma_slot) = m.kernel.vma_of(mm, file).map(|(v, _)| v) else { return false };
            let Some(pte) = m.kernel.pte_mut(mm, vma_slot, index).and_then(|e| e.as_mut()).filter(|p| p.writable)
            else {
                return false;
            };
            pte.dirty = true;
            let PteTarget::Page(p) = pte.target else { unreachable!("validated: no DAX file has sub-page blocks") };
            m.kernel.page_mut(p).bh[slot].content = token;
            // The access's footprint on the page's PTE (StoreRetired names the block).
            m.emit(actor, "store", Change::PteProbe { mm, ino: file, index, usable: true });
            m.emit(actor, "store", Change::StoreRetired { ino: file, index: lblk, token });
            true
        })
    }

    /// What the CPU does for every user access to a mapped page: try it through the PTE in one
    /// step (`access` returns whether the PTE was usable and the access done); if it was not,
    /// `handle_mm_fault` and try again. No VMA there is SIGSEGV, a fault beyond EOF SIGBUS.
    fn user_access(
        &mut self,
        function: &'static str,
        file: Ino,
        index: Lblk,
        write_fault: bool,
        mut access: impl FnMut(&mut Machine) -> bool,
    ) -> Outcome {
        let (actor, mm) = (self.actor, self.mm);
        let mut retries = Retries::new(self);
        while retries.again(self) {
            let done = self.cpu.step(|m| {
                let mapped = m.kernel.vma_of(mm, file).is_some_and(|(_, v)| v.maps(index));
                let done = mapped && access(m);
                if !done {
                    m.emit(actor, function, Change::PteProbe { mm, ino: file, index, usable: false });
                }
                if mapped { Ok(done) } else { Err(()) }
            });
            match done {
                Err(()) => return Outcome::Sigsegv,
                Ok(true) => return Outcome::Ok,
                Ok(false) => {}
            }
            match self.handle_mm_fault(file, index, write_fault) {
                Err(FaultError::Sigbus) => return Outcome::Sigbus,
                Err(FaultError::Segv) => return Outcome::Sigsegv,
                Err(FaultError::NoSpace) => return Outcome::Enospc,
                _ => {}
            }
        }
        panic!("model bug: {function} at {file}:{index} retried {RETRIES_MAX} times");
    }

    /// `handle_mm_fault` under `mmap_sem` shared. `Ok` means the access can be retried.
    pub fn handle_mm_fault(&mut self, file: Ino, index: Lblk, write: bool) -> Result<(), FaultError> {
        let mmap_sem = self.cpu.peek(|m| m.kernel.mms[self.mm as usize].mmap_sem);
        let held = self.acquire("handle_mm_fault", mmap_sem, LockMode::Shared, PageRange::WHOLE);
        let result = self.handle_mm_fault_locked(file, index, write);
        self.release("handle_mm_fault", held);
        result
    }

    /// The fault itself, for a caller that already holds `mmap_sem` shared.
    fn handle_mm_fault_locked(&mut self, file: Ino, index: Lblk, write: bool) -> Result<(), FaultError> {
        let dax = self.cpu.peek(|m| m.kernel.inode(file).dax);
        if dax {
            // find_vma before handle_mm_fault: no VMA over the address is SIGSEGV for a user
            // access and EFAULT for a syscall's copy or get_user_pages (do_user_addr_fault,
            // __get_user_pages). do_fault looks in its own first step; the DAX path must not
            // fault a page into a mapping that is not there (never mapped, or munmapped).
            // The caller holds mmap_sem shared, so no munmap can change the answer meanwhile.
            let mm = self.mm;
            let mapped = self.cpu.peek(|m| m.kernel.vma_of(mm, file).is_some_and(|(_, v)| v.maps(index)));
            if !mapped {
                return Err(FaultError::Segv);
            }
            // ext4_dax_huge_fault (5.3): a write fault whose allocation found no space stops
            // its handle and, where ext4_should_retry_alloc forced a commit, faults again, as
            // the policy's `alloc_retry_dio_dax` says. The model's retry re-enters the fault,
            // where ext4 keeps its fault lock across it (docs/model.md, "ENOSPC").
            let mut retries = 0;
            loop {
                match self.dax_fault(file, index, write) {
                    Err(FaultError::NoSpace) if self.should_retry_alloc_dio_dax(false, &mut retries) => continue,
                    done => return done,
                }
            }
        } else {
            self.do_fault(file, index, write)
        }
    }

    /// mlock(2) of `pages` pages at `page` of the shared mapping of `file`: `do_mlock` marks the
    /// VMA locked under `mmap_sem` exclusive (ENOMEM if the range is not mapped), then
    /// `__mm_populate` faults every page of the range in under `mmap_sem` shared, with read
    /// faults ("We want to touch writable mappings with a write fault in order to break COW,
    /// except for shared mappings because these don't COW", populate_vma_page_range) and
    /// ignoring the errors of single pages, as mlock does (a page past EOF stays unmapped).
    pub fn mlock(&mut self, file: Ino, page: Lblk, pages: Lblk) -> Outcome {
        let (actor, mm) = (self.actor, self.mm);
        let mmap_sem = self.cpu.peek(|m| m.kernel.mms[mm as usize].mmap_sem);
        let held = self.acquire("do_mlock", mmap_sem, LockMode::Exclusive, PageRange::WHOLE);
        // apply_vma_lock_flags (do_mlock in 4.x) -> mlock_fixup: VM_LOCKED on the range (the
        // VMA split at its edges). ENOMEM where the range's first page is not mapped; where it
        // runs past the mapping, the mapped part is locked first, then ENOMEM ("if (!vma ||
        // vma->vm_start != nstart) { error = -ENOMEM; break; }"), and nothing is populated. A
        // DAX mapping is never locked (`vma_is_dax` in 5.3's mlock_fixup; 4.x's DAX mmap sets
        // VM_MIXEDMAP, one of the VM_SPECIAL flags it skips: "don't set VM_LOCKED").
        let mapped = self.cpu.step(|m| {
            let dax = m.kernel.inode(file).dax;
            let slot = m.kernel.vma_of(mm, file).filter(|(_, vma)| vma.maps(page)).map(|(slot, _)| slot);
            let Some(slot) = slot else {
                m.emit(actor, "apply_vma_lock_flags", Change::Nothing);
                return false;
            };
            let vma = m.kernel.mms[mm as usize].vmas[slot].as_mut().expect("the mapping vma_of found");
            let whole = vma.maps_range(page, pages);
            let end = (page + pages).min(vma.pgoff + vma.npages);
            if dax {
                m.emit(actor, "apply_vma_lock_flags", Change::Nothing);
                return whole;
            }
            for index in page..end {
                vma.locked[(index - vma.pgoff) as usize] = true;
            }
            let range = PageRange::new(page, end);
            m.emit(actor, "apply_vma_lock_flags", Change::VmaLocked { mm, ino: file, range });
            whole
        });
        self.release("do_mlock", held);
        if !mapped {
            return Outcome::Enomem;
        }
        let held = self.acquire("__mm_populate", mmap_sem, LockMode::Shared, PageRange::WHOLE);
        for index in page..page + pages {
            // populate_vma_page_range ignores a page that cannot be faulted in.
            let _ = self.handle_mm_fault_locked(file, index, false);
        }
        self.release("__mm_populate", held);
        Outcome::Ok
    }

    /// `pin_user_pages` (`__get_user_pages` with FOLL_PIN) on `pages` pages of the shared
    /// mapping of `file` from page `first`, under `mmap_sem` shared: per page, `follow_page_mask`
    /// looks at the PTE and `try_grab_page` takes the pin if it is there (and writable, for
    /// `write`: FOLL_WRITE, the DMA will write the page), else `faultin_page` faults it in and
    /// the walk retries. Returns the pins in order, one per page, or the fault that failed (the
    /// syscall's EFAULT) with every pin dropped again.
    ///
    /// A DAX PTE maps the disk block itself, whose `struct page` (a `ZONE_DEVICE` page) the walk
    /// takes a reference on as it does on a page-cache page (`follow_devmap_pmd`,
    /// `follow_page_pte` → `get_dev_pagemap`; `try_grab_page`): the pin is on the block, and
    /// only `dax_layout_busy_page` looks at it ([`Pin::Dax`]). The zero page of a DAX hole is
    /// not pinned: nothing frees it.
    pub fn get_user_pages(&mut self, file: Ino, first: Lblk, pages: Lblk, write: bool) -> Result<Vec<Pin>, FaultError> {
        let (actor, mm) = (self.actor, self.mm);
        let mmap_sem = self.cpu.peek(|m| m.kernel.mms[mm as usize].mmap_sem);
        let held = self.acquire("get_user_pages", mmap_sem, LockMode::Shared, PageRange::WHOLE);
        let mut pinned = Vec::new();
        let mut failed = None;
        'pages: for index in first..first + pages {
            let mut retries = Retries::new(self);
            while retries.again(self) {
                let found = self.cpu.step(|m| {
                    let slot = m.kernel.vma_of(mm, file).map(|(slot, _)| slot);
                    let pte = slot.and_then(|slot| m.kernel.pte(mm, slot, index));
                    match pte {
                        Some(Pte { target: PteTarget::Page(page), writable, .. }) if writable || !write => {
                            m.kernel.page_mut(page).pins += 1;
                            m.emit(actor, "try_grab_page", Change::PagePinned { mm, ino: file, index, page });
                            Some(Some(Pin::Page(page)))
                        }
                        Some(Pte { target: PteTarget::Pfn(pblk), writable, .. }) if writable || !write => {
                            // A page reference never waits (the DAX pin object is not fair).
                            let lock = m.kernel.dax_pin;
                            let range = PageRange::page(pblk);
                            let (ticket, granted) =
                                m.kernel.locks[lock as usize].enqueue(actor, LockMode::Shared, range);
                            assert!(granted, "model bug: a DAX page reference had to wait");
                            let token = m.kernel.disk[pblk as usize];
                            m.emit(actor, "try_grab_page", Change::DaxPagePinned { mm, ino: file, index, pblk });
                            let change =
                                Change::LockAcquired { class: LockClass::DaxPin, mode: LockMode::Shared, range };
                            m.emit(actor, "try_grab_page", change);
                            Some(Some(Pin::Dax { pblk, ticket, token }))
                        }
                        Some(Pte { target: PteTarget::ZeroPage, writable, .. }) if writable || !write => {
                            m.emit(actor, "follow_page_mask", Change::PteProbe { mm, ino: file, index, usable: true });
                            Some(None)
                        }
                        _ => {
                            m.emit(actor, "follow_page_mask", Change::PteProbe { mm, ino: file, index, usable: false });
                            None
                        }
                    }
                });
                if let Some(pin) = found {
                    pinned.push(pin.unwrap_or(Pin::ZeroPage));
                    continue 'pages;
                }
                match self.handle_mm_fault_locked(file, index, write) {
                    Ok(()) | Err(FaultError::Retry) => {}
                    Err(error) => {
                        failed = Some(error);
                        break 'pages;
                    }
                }
            }
            panic!("model bug: get_user_pages at {file}:{index} retried {RETRIES_MAX} times");
        }
        self.release("get_user_pages", held);
        if let Some(error) = failed {
            self.unpin_user_pages(&pinned);
            return Err(error);
        }
        Ok(pinned)
    }

    /// `unpin_user_pages`: drops the pins a direct IO took, in one step.
    pub fn unpin_user_pages(&mut self, pinned: &[Pin]) {
        if pinned.iter().all(|p| *p == Pin::ZeroPage) {
            return;
        }
        let actor = self.actor;
        self.cpu.step(|m| {
            for &pin in pinned {
                match pin {
                    Pin::Page(page) => {
                        m.kernel.page_mut(page).pins -= 1;
                        m.emit(actor, "unpin_user_pages", Change::PageUnpinned { page });
                    }
                    // put_page: the last reference wakes a filesystem waiting in
                    // ___wait_var_event (fsdax_pagefree → wake_up_var), which the scheduler
                    // sees as the DAX pin object becoming grantable.
                    Pin::Dax { pblk, ticket, .. } => {
                        let lock = m.kernel.dax_pin;
                        m.kernel.locks[lock as usize].release(ticket);
                        let range = PageRange::page(pblk);
                        let change = Change::LockReleased { class: LockClass::DaxPin, mode: LockMode::Shared, range };
                        m.emit(actor, "unpin_user_pages", change);
                    }
                    Pin::ZeroPage => {}
                }
            }
        });
    }

    /// The page-cache fault paths: `do_read_fault`, `do_shared_fault`, `do_wp_page`.
    fn do_fault(&mut self, file: Ino, index: Lblk, write: bool) -> Result<(), FaultError> {
        let (actor, mm) = (self.actor, self.mm);
        let mut retries = Retries::new(self);
        while retries.again(self) {
            // Walk the page table: is there a PTE already?
            let present = self.cpu.step(|m| {
                let found = m.kernel.vma_of(mm, file).map(|(slot, vma)| (slot, vma.pgoff, vma.npages));
                let Some((slot, pgoff, npages)) =
                    found.filter(|&(_, pgoff, npages)| index >= pgoff && index < pgoff + npages)
                else {
                    m.emit(actor, "handle_pte_fault", Change::PteProbe { mm, ino: file, index, usable: false });
                    return Err(FaultError::Segv);
                };
                let _ = (pgoff, npages);
                let pte = m.kernel.pte(mm, slot, index);
                let page = pte.and_then(|p| match p.target {
                    PteTarget::Page(page) => Some((page, p.writable)),
                    _ => None,
                });
                // A page-table walk: it reads the PTE (and the VMA), not the page cache, and its
                // event says so; the partial-order reduction orders it by that footprint against
                // PTE installs and zaps.
                let usable = page.is_some_and(|(_, writable)| !write || writable);
                m.emit(actor, "handle_pte_fault", Change::PteProbe { mm, ino: file, index, usable });
                Ok(page)
            })?;
            match present {
                Some((_, writable)) if !write || writable => return Ok(()),
                Some((page, _)) => match self.do_wp_page(file, index, page) {
                    Err(FaultError::Retry) => continue,
                    other => return other,
                },
                None => {}
            }
            // __do_fault -> ->fault
            let frame = self.enter(Func::DoFault, file, index, PageRange::page(index));
            let fault = self.enter(Func::FilemapFault, file, index, PageRange::page(index));
            let faulted = self.filemap_fault(file, index);
            self.leave(fault);
            let (page, mut page_lock) = match faulted {
                Ok(locked) => locked,
                Err(FaultError::Retry) => {
                    self.leave(frame);
                    continue;
                }
                Err(e) => {
                    self.leave(frame);
                    return Err(e);
                }
            };
            if write {
                // do_shared_fault: unlock the page, let the filesystem prepare it for writing.
                self.unlock_page("do_shared_fault", page_lock);
                self.at(&frame, Point::DoFaultPageMkwrite);
                page_lock = match self.page_mkwrite(file, index, page) {
                    Ok(locked) => locked,
                    Err(FaultError::Retry) => {
                        self.leave(frame);
                        continue;
                    }
                    Err(e) => {
                        self.leave(frame);
                        return Err(e);
                    }
                };
            }
            self.at(&frame, Point::DoFaultFinishFault);
            // finish_fault: install the PTE under the page lock (unless somebody beat us to it).
            self.cpu.step(|m| {
                let slot = m.kernel.vma_of(mm, file).map(|(slot, _)| slot);
                let Some(entry) = slot.and_then(|slot| m.kernel.pte_mut(mm, slot, index)) else {
                    m.emit(actor, "finish_fault", Change::PteProbe { mm, ino: file, index, usable: false });
                    return;
                };
                if entry.is_none() {
                    *entry = Some(Pte { target: PteTarget::Page(page), writable: write, dirty: write });
                    m.emit(
                        actor,
                        "finish_fault",
                        Change::PteInstalled { mm, ino: file, index, target: PteTarget::Page(page), writable: write },
                    );
                } else {
                    m.emit(actor, "finish_fault", Change::Nothing);
                }
            });
            self.unlock_page("finish_fault", page_lock);
            self.leave(frame);
            return Ok(());
        }
        panic!("model bug: fault on {file}:{index} retried {RETRIES_MAX} times");
    }

    /// `filemap_fault`: returns the page, locked, uptodate and still in the mapping.
    pub fn filemap_fault(&mut self, file: Ino, index: Lblk) -> Result<(PageId, Held), FaultError> {
        let actor = self.actor;
        self.check_i_size("filemap_fault", file, index)?;
        let cached = self.cpu.step(|m| {
            let page = m.kernel.inode(file).cache[index as usize];
            m.emit(actor, "find_get_page", Change::PageLookup { ino: file, index, page });
            page
        });
        let (page, page_lock) = match cached {
            Some(page) => {
                let held = self.lock_page("lock_page_or_retry", page);
                (page, held)
            }
            None => self.page_cache_read(file, index)?,
        };
        // The page may have been truncated while we slept on its lock.
        if !self.still_attached("filemap_fault", page) {
            self.unlock_page("filemap_fault", page_lock);
            return Err(FaultError::Retry);
        }
        // Only the page-lock holder reads a page in, so under the lock this is stable.
        let uptodate = self.cpu.peek(|m| m.kernel.page(page).uptodate);
        let page_lock = if uptodate { page_lock } else { self.read_existing_page(file, page, page_lock)? };
        if self.policy.fault_recheck_i_size
            && let Err(e) = self.check_i_size("filemap_fault", file, index)
        {
            self.unlock_page("filemap_fault", page_lock);
            return Err(e);
        }
        Ok((page, page_lock))
    }

    /// One step: is the (locked) page still in the page cache?
    pub fn still_attached(&mut self, function: &'static str, page: PageId) -> bool {
        let actor = self.actor;
        self.cpu.step(|m| {
            let attached = m.kernel.page(page).attached;
            m.emit(actor, function, Change::MappingCheck { page, attached, i_size_of: None });
            attached
        })
    }

    /// Brings a cached but not uptodate page uptodate (`filemap_read_page`), given its lock.
    /// Under `invalidate_lock` this, like creating a page, happens under the lock shared: the
    /// page lock is dropped, the invalidate lock taken, the page locked and checked again.
    /// Returns the page lock, or `Retry` if the page was truncated meanwhile.
    pub fn read_existing_page(&mut self, file: Ino, page: PageId, page_lock: Held) -> Result<Held, FaultError> {
        let index = self.cpu.peek(|m| m.kernel.page(page).index);
        if !self.placements_begin_at(Point::FilemapReadPageStart) {
            let frame = self.enter(Func::FilemapReadPage, file, index, PageRange::page(index));
            self.readpage(page);
            self.leave(frame);
            return Ok(page_lock);
        }
        // A sleeping lock ordered above the page lock: drop the page lock to take it, then
        // lock the page again and check it is still there (filemap_update_page, 5.15+).
        self.unlock_page("filemap_fault", page_lock);
        let frame = self.enter(Func::FilemapReadPage, file, index, PageRange::page(index));
        let page_lock = self.lock_page("lock_page", page);
        let attached = self.still_attached("filemap_fault", page);
        if attached {
            self.readpage(page);
        } else {
            self.unlock_page("filemap_fault", page_lock);
        }
        self.leave(frame);
        if attached { Ok(page_lock) } else { Err(FaultError::Retry) }
    }

    /// One step: is `index` inside `i_size`?
    pub fn check_i_size(&mut self, function: &'static str, file: Ino, index: Lblk) -> Result<(), FaultError> {
        let actor = self.actor;
        self.cpu.step(|m| {
            // In pages: the page that straddles EOF is inside it.
            let i_size = m.kernel.inode(file).i_size_pages();
            m.emit(actor, function, Change::ISizeCheck { ino: file, index, i_size });
            if index < i_size { Ok(()) } else { Err(FaultError::Sigbus) }
        })
    }

    /// Creates the page for `index` (under the policy's creation lock) and reads it; returns it
    /// locked. If another actor created it first, locks theirs instead.
    pub fn page_cache_read(&mut self, file: Ino, index: Lblk) -> Result<(PageId, Held), FaultError> {
        let actor = self.actor;
        let frame = self.enter(Func::PageCacheRead, file, index, PageRange::page(index));
        let created = self.cpu.step(|m| find_or_add_locked_page(m, actor, "add_to_page_cache_lru", file, index));
        let result = match created {
            Ok((page, held)) => {
                self.at(&frame, Point::PageCacheReadReadpage);
                self.readpage(page);
                (page, held)
            }
            Err(existing) => {
                let held = self.lock_page("lock_page", existing);
                (existing, held)
            }
        };
        self.leave(frame);
        Ok(result)
    }

    /// `->readpage` as ext4 does it (`ext4_readpage` → `ext4_mpage_readpages`, a copy of
    /// `do_mpage_readpage` in fs/mpage.c), which picks one of two paths:
    ///
    /// - The page has no buffer heads: map its blocks. With page size equal to block size,
    ///   one mapped block is always "contiguous", so a written block is read with a bio and a
    ///   hole (or an unwritten extent: `EXT4_MAP_MAPPED` is not set) is zeroed and marked
    ///   uptodate (`first_hole == 0`); neither attaches buffer heads. The mapping is looked up
    ///   again at `page_mkwrite`, `write_begin` or writeback.
    /// - The page already has buffers (`page_has_buffers` → `confused`): `block_read_full_page`
    ///   reads each buffer from the block it caches (`b_blocknr`, BH_Mapped) without looking at
    ///   the block map, and calls `get_block(create = 0)` only for an unmapped buffer, caching
    ///   what it finds. A hole leaves the buffer unmapped and the page zeroed.
    ///
    /// The other reasons to fall back (a hole followed by a mapped block, discontiguous blocks
    /// within one page) need several blocks per page, which the model does not have: that is
    /// where a page read in during a punch caches the soon-freed block in its buffers
    /// (docs/model.md).
    pub fn readpage(&mut self, page: PageId) {
        let actor = self.actor;
        let frame = (self.mask & (1 << Func::Readpage as u32) != 0).then(|| {
            let (file, index) = self.cpu.peek(|m| (m.kernel.page(page).ino, m.kernel.page(page).index));
            self.enter(Func::Readpage, file, index, PageRange::page(index))
        });
        self.readpage_step(page, actor);
        if let Some(frame) = frame {
            self.leave(frame);
        }
    }

    fn readpage_step(&mut self, page: PageId, actor: crate::types::ActorId) {
        self.cpu.step(|m| {
            if !m.kernel.page(page).bh.is_empty() {
                block_read_full_page(m, actor, page);
                return;
            }
            let (ino, index, buffers) = {
                let p = m.kernel.page(page);
                (p.ino, p.index, p.buffers)
            };
            // Both read paths map only the blocks inside i_size as it is now
            // (do_mpage_readpage / ext4_mpage_readpages: "last_block_in_file =
            // (i_size_read(inode) + blocksize - 1) >> blkbits"; block_read_full_page's
            // "iblock < lblock"): a page past EOF (a truncate moved it after the caller's own
            // check) is a hole, zeroed and uptodate without IO. Declared: `PageRead` reads
            // `i_size`.
            let past_eof = index >= m.kernel.inode(ino).i_size_pages();
            if !buffers {
                let (extent, token) =
                    if past_eof { (Extent::Hole, Token::Zero) } else { m.kernel.read_block(ino, index) };
                let p = m.kernel.page_mut(page);
                p.content = token;
                p.uptodate = true;
                m.emit(actor, "mpage_readpage", Change::PageRead { ino, index, page, extent, token });
                return;
            }
            // A buffer already mapped (BH_Mapped) is read wherever it is.
            let cached = m.kernel.page(page).buffer_pblk;
            let pblk = cached.or_else(|| match m.kernel.inode(ino).blocks[index as usize] {
                _ if past_eof => None,
                // ext4_get_block(create = 0) maps the buffer: BH_Mapped, b_blocknr.
                Extent::Written(p) => Some(p),
                // Simplification: an unwritten extent reads as zeroes here as it does in the
                // mpage path; a delayed one has no block yet.
                Extent::Hole | Extent::Delalloc | Extent::Unwritten(_) => None,
            });
            let map = m.kernel.inode(ino).blocks[index as usize];
            let (extent, token) = match pblk {
                // A buffer over an unwritten extent (BH_Unwritten, which the model does not
                // record: it takes the block map's word) reads as zeroes, as in the mpage path.
                Some(p) if map == Extent::Unwritten(p) => (map, Token::Zero),
                Some(p) => {
                    let shown = if map.pblk() == Some(p) { map } else { Extent::Written(p) };
                    (shown, m.kernel.disk[p as usize])
                }
                None if past_eof => (Extent::Hole, Token::Zero),
                None => (m.kernel.inode(ino).blocks[index as usize], Token::Zero),
            };
            let p = m.kernel.page_mut(page);
            p.buffer_pblk = pblk;
            p.content = token;
            p.uptodate = true;
            m.emit(actor, "block_read_full_page", Change::PageRead { ino, index, page, extent, token });
        });
    }

    /// `page_mkwrite` (ext4/`block_page_mkwrite`): makes a page writable through a mapping.
    /// Returns the page locked, dirty and backed by a block.
    pub fn page_mkwrite(&mut self, file: Ino, index: Lblk, page: PageId) -> Result<Held, FaultError> {
        let actor = self.actor;
        let frame = self.enter(Func::PageMkwrite, file, index, PageRange::page(index));
        self.at(&frame, Point::PageMkwriteLockPage);
        // ext4_page_mkwrite's `retry_alloc`: after an ENOSPC it unlocks the page, stops its
        // handle and, if ext4_should_retry_alloc says so, takes the page lock again (still
        // under the fault lock) and calls block_page_mkwrite anew.
        let mut retries = 0;
        let page_lock = loop {
            let page_lock = self.lock_page("block_page_mkwrite", page);
            // "if ((page->mapping != inode->i_mapping) || (page_offset(page) > size))": a
            // truncated page is refaulted; a page beyond EOF will be zapped by the truncate that
            // moved EOF, and the refault then gets SIGBUS, so report that now rather than spin
            // on it.
            //
            // That `size = i_size_read(inode)` is the one sample of i_size block_page_mkwrite
            // takes (iomap_page_mkwrite and ext4_page_mkwrite's own check the same): on the page
            // that straddles EOF, it also bounds the buffers mapped ("end = size & ~PAGE_MASK"),
            // so a size changed after the check does not move them.
            let verdict = self.cpu.step(|m| {
                let p = m.kernel.page(page);
                let size = m.kernel.inode(file).i_size;
                let i_size = m.kernel.inode(file).i_size_pages();
                if !p.attached {
                    m.emit(
                        actor,
                        "block_page_mkwrite",
                        Change::MappingCheck { page, attached: false, i_size_of: None },
                    );
                    Err(FaultError::Retry)
                } else if p.index >= i_size {
                    m.emit(actor, "block_page_mkwrite", Change::ISizeCheck { ino: file, index, i_size });
                    Err(FaultError::Sigbus)
                } else {
                    m.emit(
                        actor,
                        "block_page_mkwrite",
                        Change::MappingCheck { page, attached: true, i_size_of: Some(file) },
                    );
                    Ok(size)
                }
            });
            let size = match verdict {
                Ok(size) => size,
                Err(error) => {
                    self.unlock_page("block_page_mkwrite", page_lock);
                    self.leave(frame);
                    return Err(error);
                }
            };
            // The placements from get_block are taken once: a retry keeps them.
            if retries == 0 {
                self.at(&frame, Point::PageMkwriteGetBlock);
            }
            let alloc = self.policy.write_alloc;
            let caller = MapFor::page_mkwrite(self.policy);
            let mapped = self.cpu.step(|m| {
                if m.kernel.page(page).bh.is_empty() {
                    return map_page_buffers(m, actor, caller, file, index, page, alloc);
                }
                // __block_write_begin(page, 0, end): the buffers inside the sampled EOF.
                let per_page = m.kernel.inode(file).blocks_per_page;
                let inside = size.saturating_sub(index * per_page).min(per_page);
                map_block_buffers(m, actor, caller, file, page, alloc, 0..inside).map(|new| new != 0)
            });
            if mapped.is_some() {
                break page_lock;
            }
            // block_page_mkwrite failed with -ENOSPC (its error path has zeroed and dirtied
            // any buffer that got a new block: page_zero_new_buffers).
            self.unlock_page("block_page_mkwrite", page_lock);
            // ext4 restarts its handle before block_page_mkwrite locks the page again; a lock
            // the policy takes at get_block would be held across the re-lock, in the other
            // order, so under such a policy the fault does not retry.
            let placed_at_get_block = self.placements_begin_at(Point::PageMkwriteGetBlock);
            if placed_at_get_block || !self.should_retry_alloc(&mut retries) {
                // The fault ends in VM_FAULT_SIGBUS and the store never happens.
                self.leave(frame);
                return Err(FaultError::NoSpace);
            }
        };
        self.cpu.step(|m| {
            m.kernel.set_page_dirty(page);
            m.emit(actor, "set_page_dirty", Change::PageDirtied { page, i_size_of: None });
        });
        self.leave(frame);
        Ok(page_lock)
    }

    /// `do_wp_page` → `wp_page_shared`: a store hit a read-only PTE of a page-cache page.
    fn do_wp_page(&mut self, file: Ino, index: Lblk, page: PageId) -> Result<(), FaultError> {
        let (actor, mm) = (self.actor, self.mm);
        let page_lock = self.page_mkwrite(file, index, page)?;
        // finish_mkwrite_fault: the PTE must still be the one we faulted on.
        let same = self.cpu.step(|m| {
            let slot = m.kernel.vma_of(mm, file).map(|(s, _)| s);
            let entry = slot.and_then(|s| m.kernel.pte_mut(mm, s, index)).and_then(|e| e.as_mut());
            match entry {
                Some(pte) if pte.target == PteTarget::Page(page) => {
                    pte.writable = true;
                    pte.dirty = true;
                    m.emit(actor, "finish_mkwrite_fault", Change::PteMadeWritable { mm, ino: file, index });
                    true
                }
                _ => {
                    m.emit(actor, "finish_mkwrite_fault", Change::Nothing);
                    false
                }
            }
        });
        self.unlock_page("wp_page_shared", page_lock);
        if same { Ok(()) } else { Err(FaultError::Retry) }
    }

    /// The DAX fault path (`dax_iomap_pte_fault`, 4.x `__dax_fault`): no page cache; the PTE
    /// points at the block itself.
    fn dax_fault(&mut self, file: Ino, index: Lblk, write: bool) -> Result<(), FaultError> {
        let (actor, mm) = (self.actor, self.mm);
        let frame = self.enter(Func::DaxFault, file, index, PageRange::page(index));
        // 4.x __dax_fault and today's dax_iomap_pte_fault refuse a fault beyond EOF before
        // they look at the block map; the check under i_mmap_lock (or the fault lock) later is
        // what catches a truncate that lands after this one.
        if let Err(e) = self.check_i_size("dax_iomap_pte_fault", file, index) {
            self.leave(frame);
            return Err(e);
        }
        self.at(&frame, Point::DaxFaultGetBlock);
        let zeroing = self.policy.dax_zeroing;
        let alloc = self.policy.write_alloc;
        // get_block: find or (for a write) allocate the block. Where the policy zeroes in the
        // allocation (EXT4_GET_BLOCKS_ZERO, XFS_BMAPI_ZERO), the zeroing is part of this step:
        // the filesystem zeroes before it publishes the block (under i_data_sem / ILOCK).
        // Otherwise get_block hands back buffer_new (or buffer_unwritten) and
        // dax_insert_mapping zeroes later (4.0-4.4).
        let target = self.cpu.step(|m| {
            let extent = m.kernel.inode(file).blocks[index as usize];
            let (target, extent, allocated, zero_later) = match extent {
                Extent::Written(p) => (PteTarget::Pfn(p), extent, false, false),
                Extent::Unwritten(p) if write && zeroing == DaxZeroing::InsertMapping => {
                    // buffer_unwritten: dax_insert_mapping clears it, complete_unwritten
                    // converts it once the PTE is in.
                    (PteTarget::Pfn(p), extent, false, true)
                }
                Extent::Unwritten(p) if write => {
                    // Converting on a write fault: zero it first (ext4 does, via iomap zeroing).
                    m.kernel.disk[p as usize] = Token::Zero;
                    m.kernel.inode_mut(file).blocks[index as usize] = Extent::Written(p);
                    (PteTarget::Pfn(p), Extent::Written(p), false, false)
                }
                Extent::Hole | Extent::Unwritten(_) if !write => (PteTarget::ZeroPage, extent, false, false),
                _ => match m.kernel.alloc_block(file, index) {
                    None => {
                        m.emit(actor, "dax_iomap_begin", Change::NoSpace { ino: file, lblk: index });
                        return None;
                    }
                    Some(p) => {
                        if zeroing == DaxZeroing::Allocation
                            || (zeroing == DaxZeroing::Never && alloc == AllocKind::Unwritten)
                        {
                            m.kernel.disk[p as usize] = Token::Zero;
                        }
                        m.kernel.inode_mut(file).blocks[index as usize] = Extent::Written(p);
                        (PteTarget::Pfn(p), Extent::Written(p), true, zeroing == DaxZeroing::InsertMapping)
                    }
                },
            };
            m.emit(
                actor,
                "dax_iomap_begin",
                Change::BlockMapped { ino: file, lblk: index, extent, allocated, reserved: false },
            );
            Some((target, allocated, zero_later))
        });
        let Some((target, allocated, zero_later)) = target else {
            // dax_fault_return(-ENOSPC) is VM_FAULT_SIGBUS, as for page_mkwrite: reported as
            // ENOSPC so that the reference model does not take it for a fault beyond EOF.
            self.leave(frame);
            return Err(FaultError::NoSpace);
        };
        if allocated {
            // The hole may be mapped with the zero page elsewhere: evict those mappings, so
            // that every process refaults onto the new block (4.x __dax_fault's
            // unmap_mapping_range of the hole; dax_insert_entry today).
            self.unmap_mapping_range(file, PageRange::page(index));
        }
        self.at(&frame, Point::DaxFaultInsertMapping);
        if let Err(e) = self.check_i_size("dax_insert_mapping", file, index) {
            self.leave(frame);
            return Err(e);
        }
        if zero_later && let PteTarget::Pfn(pblk) = target {
            // 4.0-4.4 dax_insert_mapping: "if (buffer_unwritten(bh) || buffer_new(bh))
            // clear_pmem(addr, PAGE_SIZE)", under i_mmap_lock_read only: a second fault on the
            // same index that found the block allocated may have mapped it and stored already,
            // and this wipes the store (xfstests generic/340). The block is the one get_block
            // returned, whoever owns it now.
            self.cpu.step(|m| {
                m.kernel.disk[pblk as usize] = Token::Zero;
                m.emit(
                    actor,
                    "dax_insert_mapping",
                    Change::DiskWrite { pblk, ino: file, lblk: index, token: Token::Zero, page: None },
                );
            });
        }
        self.cpu.step(|m| {
            let slot = m.kernel.vma_of(mm, file).map(|(slot, _)| slot);
            let Some(entry) = slot.and_then(|slot| m.kernel.pte_mut(mm, slot, index)) else {
                m.emit(actor, "vm_insert_mixed", Change::PteProbe { mm, ino: file, index, usable: false });
                return;
            };
            *entry = Some(Pte { target, writable: write, dirty: write });
            m.emit(actor, "vm_insert_mixed", Change::PteInstalled { mm, ino: file, index, target, writable: write });
        });
        if zero_later
            && !allocated
            && let PteTarget::Pfn(pblk) = target
        {
            // __dax_fault: "if (buffer_unwritten(&bh)) complete_unwritten(&bh, !error)": the
            // extent becomes written after the PTE went in (if it is still this block).
            self.cpu.step(|m| {
                let blocks = &mut m.kernel.inode_mut(file).blocks;
                let converted = blocks[index as usize] == Extent::Unwritten(pblk);
                if converted {
                    blocks[index as usize] = Extent::Written(pblk);
                }
                let change = if converted {
                    Change::BlockMapped {
                        ino: file,
                        lblk: index,
                        extent: Extent::Written(pblk),
                        allocated: false,
                        reserved: false,
                    }
                } else {
                    Change::Nothing
                };
                m.emit(actor, "complete_unwritten", change);
            });
        }
        self.leave(frame);
        Ok(())
    }
}

/// One step of `pagecache_get_page(FGP_CREAT | FGP_LOCK)`: adds a new page for `file:index`,
/// born locked by `actor`, unless one is cached already, which is returned (unlocked) instead.
pub(crate) fn find_or_add_locked_page(
    m: &mut Machine,
    actor: crate::types::ActorId,
    function: &'static str,
    file: Ino,
    index: Lblk,
) -> Result<(PageId, Held), PageId> {
    match m.kernel.inode(file).cache[index as usize] {
        Some(existing) => {
            m.emit(actor, function, Change::PageLookup { ino: file, index, page: Some(existing) });
            Err(existing)
        }
        None => {
            let page = m.kernel.add_page(file, index);
            let lock = m.kernel.page(page).lock;
            let (ticket, granted) = m.kernel.locks[lock as usize].enqueue(actor, LockMode::Exclusive, PageRange::WHOLE);
            assert!(granted, "model bug: a new page's lock was contended");
            m.emit(actor, function, Change::PageAdded { ino: file, index, page });
            Ok((page, Held { lock, ticket, mode: LockMode::Exclusive, range: PageRange::WHOLE }))
        }
    }
}

/// A load through the PTE for `file:index`, if one is present: what it sees.
fn pte_load(m: &Machine, mm: MmId, file: Ino, index: Lblk) -> Option<(Token, ReadFrom)> {
    let (slot, _) = m.kernel.vma_of(mm, file)?;
    let pte = m.kernel.pte(mm, slot, index)?;
    Some(match pte.target {
        PteTarget::Page(p) => (m.kernel.page(p).content, ReadFrom::Page(p)),
        PteTarget::Pfn(b) => (m.kernel.disk[b as usize], ReadFrom::Block(b)),
        PteTarget::ZeroPage => (Token::Zero, ReadFrom::Zeroes),
    })
}

/// A store through the PTE for `file:index`, if one is present and writable. Returns the
/// disk block written directly (DAX), if any.
pub(crate) fn pte_store(m: &mut Machine, mm: MmId, file: Ino, index: Lblk, token: Token) -> Option<Option<Pblk>> {
    let (slot, _) = m.kernel.vma_of(mm, file)?;
    let pte = m.kernel.pte_mut(mm, slot, index)?.as_mut().filter(|p| p.writable)?;
    pte.dirty = true;
    match pte.target {
        PteTarget::Page(p) => {
            m.kernel.page_mut(p).content = token;
            Some(None)
        }
        PteTarget::Pfn(b) => {
            m.kernel.disk[b as usize] = token;
            Some(Some(b))
        }
        PteTarget::ZeroPage => unreachable!("model bug: writable PTE to the zero page"),
    }
}

/// Who maps a page's buffers, for [`map_page_buffers`] and [`map_block_buffers`]: the kernel
/// function the events name, and whether an allocation files the inode with the running
/// transaction for the data=ordered commit. write(2) always does in the model: `ext4_write_end`
/// files it ("if (ext4_test_inode_state(inode, EXT4_STATE_ORDERED_MODE)) ret =
/// ext4_jbd2_file_inode(handle, inode)") in the handle that allocated, which a commit waits
/// for (the model files at the allocation; the commit's write-out waits for the page lock the
/// write holds until then). `block_page_mkwrite` does as the policy's `mkwrite_files_inode`
/// says: ext4's nodelalloc `ext4_page_mkwrite` filed nothing from 9ea7df534ed2 (2011) until
/// 06bd3c36a733 (4.7) made `ext4_map_blocks` file every new written block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MapFor {
    pub function: &'static str,
    pub files_inode: bool,
}

impl MapFor {
    /// `__block_write_begin` from write(2)'s `write_begin`.
    pub const WRITE_BEGIN: MapFor = MapFor { function: "__block_write_begin", files_inode: true };

    /// `block_page_mkwrite` from a write fault, filing as the policy says.
    pub fn page_mkwrite(policy: &crate::policy::Policy) -> MapFor {
        MapFor { function: "block_page_mkwrite", files_inode: policy.mkwrite_files_inode }
    }
}

/// `get_block` for a page about to be written (`__block_write_begin`, `block_page_mkwrite`) of a
/// file whose block is the page (`map_block_buffers` maps smaller blocks): attaches the page's
/// buffer to its block, allocating one for a hole. Returns whether a new
/// block was allocated (`buffer_new`), or `None` on ENOSPC. `files_inode`: whether that
/// allocation files the inode with the running transaction (see [`MapFor`]).
pub(crate) fn map_page_buffers(
    m: &mut crate::cpu::Machine,
    actor: crate::types::ActorId,
    caller: MapFor,
    file: Ino,
    index: Lblk,
    page: PageId,
    alloc: AllocKind,
) -> Option<bool> {
    let (function, files_inode) = (caller.function, caller.files_inode);
    // create_empty_buffers comes first: the page has buffers even if get_block then fails.
    m.kernel.page_mut(page).buffers = true;
    debug_assert!(m.kernel.page(page).bh.is_empty(), "a page of sub-page blocks maps them by buffer");
    if let Some(pblk) = m.kernel.page(page).buffer_pblk {
        let extent = m.kernel.inode(file).blocks[index as usize];
        let shown = if extent.pblk() == Some(pblk) { extent } else { Extent::Written(pblk) };
        m.emit(
            actor,
            function,
            Change::BlockMapped { ino: file, lblk: index, extent: shown, allocated: false, reserved: false },
        );
        return Some(false);
    }
    let extent = m.kernel.inode(file).blocks[index as usize];
    let mut reserved = false;
    let (extent, allocated) = match extent {
        Extent::Written(_) | Extent::Unwritten(_) | Extent::Delalloc => (extent, false),
        Extent::Hole if alloc == AllocKind::Delalloc => {
            // ext4_da_get_block_prep: reserve (ext4_da_reserve_space, ENOSPC once every free
            // block is promised), allocate at writeback.
            if !m.kernel.can_reserve_delalloc(1) {
                m.emit(actor, function, Change::NoSpace { ino: file, lblk: index });
                return None;
            }
            m.kernel.inode_mut(file).blocks[index as usize] = Extent::Delalloc;
            reserved = true;
            (Extent::Delalloc, false)
        }
        Extent::Hole => {
            let Some(pblk) = m.kernel.alloc_block_filing(file, index, files_inode) else {
                m.emit(actor, function, Change::NoSpace { ino: file, lblk: index });
                return None;
            };
            let extent = alloc.allocated(pblk);
            m.kernel.inode_mut(file).blocks[index as usize] = extent;
            (extent, true)
        }
    };
    m.kernel.page_mut(page).buffer_pblk = extent.pblk();
    m.emit(actor, function, Change::BlockMapped { ino: file, lblk: index, extent, allocated, reserved });
    Some(allocated)
}

/// `block_read_full_page` for a page of a file whose blocks are smaller than a page (ext4's
/// mpage path falls back to it when a page's blocks are not one contiguous mapped run, and
/// reads the same): per buffer, one that is uptodate is left as it is ("if
/// (buffer_uptodate(bh)) continue": the blocks a write(2) copied into a page that was not
/// uptodate), a block past EOF is zeroed ("iblock < lblock" fails), a mapped
/// buffer is read from the block it caches, an unmapped one is mapped by `get_block(create =
/// 0)` if the block map has a written block there, and zeroed otherwise (a hole, an unwritten
/// or delayed extent). One step for the page, one event per block it reads.
fn block_read_full_page(m: &mut Machine, actor: crate::types::ActorId, page: PageId) {
    let (ino, index) = (m.kernel.page(page).ino, m.kernel.page(page).index);
    let inode = m.kernel.inode(ino);
    let (per_page, i_size) = (inode.blocks_per_page, inode.i_size);
    for slot in 0..per_page {
        let lblk = index * per_page + slot;
        if m.kernel.page(page).bh[slot as usize].uptodate {
            continue;
        }
        let extent = m.kernel.inode(ino).blocks[lblk as usize];
        let cached = m.kernel.page(page).bh[slot as usize].mapped;
        let pblk = if lblk >= i_size {
            None
        } else {
            cached.or(match extent {
                Extent::Written(p) => Some(p),
                Extent::Hole | Extent::Delalloc | Extent::Unwritten(_) => None,
            })
        };
        let token = match pblk {
            Some(p) if extent == Extent::Unwritten(p) => Token::Zero,
            Some(p) => m.kernel.disk[p as usize],
            None => Token::Zero,
        };
        let bh = &mut m.kernel.page_mut(page).bh[slot as usize];
        bh.mapped = pblk;
        bh.content = token;
        bh.uptodate = true;
        let shown = match pblk {
            Some(p) if extent.pblk() != Some(p) => Extent::Written(p),
            _ => extent,
        };
        // Named by the block, whose extent it read.
        m.emit(actor, "block_read_full_page", Change::PageRead { ino, index: lblk, page, extent: shown, token });
    }
    m.kernel.page_mut(page).buffers = true;
    m.kernel.page_mut(page).uptodate = true;
}

/// `__block_write_begin` over the buffers `slots` of a page of a file whose blocks are smaller
/// than a page: `block_page_mkwrite` calls it over the part of the page inside EOF (`end =
/// size & ~PAGE_MASK` on the page that straddles EOF), write(2)'s `write_begin` over the
/// blocks the write covers. Every buffer of `slots` is mapped, a hole getting a block (or a
/// delayed allocation); the others are left as they are, so past EOF they stay unmapped
/// ("allocating blocks beyond i_size is generally undesirable", 90a8020278c1). On an uptodate
/// page a new block's buffer is not zeroed: the page's bytes there are what goes to disk. One
/// step; one event per block it maps. Returns the buffers it gave a block or a reservation
/// (BH_New, a bit per slot), `None` on ENOSPC.
/// `__block_write_begin`'s error path: "if (unlikely(err)) page_zero_new_buffers(page, from,
/// to)" zeroes the buffers this call mapped new (`new_slots`, a bit per buffer) where the page
/// is not uptodate, marks them uptodate and dirties them, so that neither a read nor writeback
/// sees what their new blocks held before.
pub(crate) fn page_zero_new_buffers(m: &mut Machine, actor: crate::types::ActorId, page: PageId, new_slots: u64) {
    if new_slots == 0 {
        return;
    }
    let uptodate = m.kernel.page(page).uptodate;
    for slot in 0..m.kernel.page(page).bh.len() as Lblk {
        if new_slots & (1 << slot) == 0 {
            continue;
        }
        let bh = &mut m.kernel.page_mut(page).bh[slot as usize];
        if !uptodate {
            bh.content = Token::Zero;
            bh.uptodate = true;
            m.emit(actor, "page_zero_new_buffers", Change::BlocksZeroed { page, first: slot, end: slot + 1 });
        }
        m.kernel.mark_buffer_dirty(page, slot);
    }
    m.emit(actor, "page_zero_new_buffers", Change::PageDirtied { page, i_size_of: None });
}

pub(crate) fn map_block_buffers(
    m: &mut Machine,
    actor: crate::types::ActorId,
    caller: MapFor,
    file: Ino,
    page: PageId,
    alloc: AllocKind,
    slots: std::ops::Range<Lblk>,
) -> Option<u64> {
    let (function, files_inode) = (caller.function, caller.files_inode);
    m.kernel.page_mut(page).buffers = true;
    let index = m.kernel.page(page).index;
    let per_page = m.kernel.inode(file).blocks_per_page;
    // Buffers this call gave a block or a reservation (BH_New), for the error path.
    let mut new_slots: u64 = 0;
    for slot in slots {
        let lblk = index * per_page + slot;
        if let Some(pblk) = m.kernel.page(page).bh[slot as usize].mapped {
            let extent = m.kernel.inode(file).blocks[lblk as usize];
            let shown = if extent.pblk() == Some(pblk) { extent } else { Extent::Written(pblk) };
            m.emit(
                actor,
                function,
                Change::BlockMapped { ino: file, lblk, extent: shown, allocated: false, reserved: false },
            );
            continue;
        }
        let extent = m.kernel.inode(file).blocks[lblk as usize];
        let mut reserved = false;
        let (extent, allocated) = match extent {
            Extent::Written(_) | Extent::Unwritten(_) | Extent::Delalloc => (extent, false),
            Extent::Hole if alloc == AllocKind::Delalloc => {
                if !m.kernel.can_reserve_delalloc(1) {
                    m.emit(actor, function, Change::NoSpace { ino: file, lblk });
                    page_zero_new_buffers(m, actor, page, new_slots);
                    return None;
                }
                reserved = true;
                m.kernel.inode_mut(file).blocks[lblk as usize] = Extent::Delalloc;
                new_slots |= 1 << slot;
                (Extent::Delalloc, false)
            }
            Extent::Hole => {
                let Some(pblk) = m.kernel.alloc_block_filing(file, lblk, files_inode) else {
                    m.emit(actor, function, Change::NoSpace { ino: file, lblk });
                    page_zero_new_buffers(m, actor, page, new_slots);
                    return None;
                };
                new_slots |= 1 << slot;
                let extent = alloc.allocated(pblk);
                m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                (extent, true)
            }
        };
        m.kernel.page_mut(page).bh[slot as usize].mapped = extent.pblk();
        m.emit(actor, function, Change::BlockMapped { ino: file, lblk, extent, allocated, reserved });
    }
    Some(new_slots)
}
