//! Direct IO (`__blockdev_direct_IO` / `iomap_dio_rw` at the granularity racesim needs):
//! `inode_dio_begin`, `get_user_pages` on a mapped user buffer, the range lock over the bio
//! (Kara), flushing and invalidating the page-cache range, mapping or allocating the blocks,
//! submitting the bio, its completion (`dio_bio_end_io`), and `inode_dio_end`.
//!
//! An asynchronous DIO returns to the user after submission; its completion runs later. The
//! model runs the completion as the same actor's next steps, after the operation has returned
//! and before its next operation begins (docs/model.md).

use super::locking::Held;
use super::{Task, UserBuffer};
use crate::cpu::Cpu;
use crate::event::{Change, Outcome, ReadPath};
use crate::lock::LockMode;
use crate::types::{Extent, Ino, Lblk, PageRange, Pblk, Token, WriteId};

/// A submitted bio: the blocks it covers, page by page (`None`: a hole, for a read).
pub struct Bio {
    file: Ino,
    page: Lblk,
    blocks: Vec<Option<Pblk>>,
    write: Option<WriteId>,
    held: Vec<Held>,
}

impl<C: Cpu> Task<'_, C> {
    /// Starts a direct IO: locks, `get_user_pages`, page-cache flush and invalidation, block
    /// mapping, bio submission. Returns the bio to complete, or the error.
    pub fn dio_submit(
        &mut self,
        file: Ino,
        page: Lblk,
        pages: Lblk,
        buffer: UserBuffer,
        write: Option<WriteId>,
    ) -> Result<Bio, Outcome> {
        let actor = self.actor;
        let range = PageRange::new(page, page + pages);
        let (i_rwsem, dio_count, range_lock) = self.cpu.peek(|m| {
            (m.kernel.inode(file).i_rwsem, m.kernel.inode(file).i_dio_count, m.kernel.inode(file).range_lock)
        });
        let mut held = Vec::new();
        // ext4 takes i_rwsem exclusive for every write, direct or not, until the bio is
        // submitted; direct reads take it shared only where the policy says so.
        let i_rwsem = if write.is_some() || self.policy.dio_read_i_rwsem {
            let mode = if write.is_some() { LockMode::Exclusive } else { LockMode::Shared };
            Some(self.acquire("inode_lock", i_rwsem, mode, PageRange::WHOLE))
        } else {
            None
        };
        held.push(self.acquire("inode_dio_begin", dio_count, LockMode::Shared, PageRange::WHOLE));
        // get_user_pages: fault the user buffer in under mmap_sem, before any range lock
        // (mmap_sem > range lock).
        if let UserBuffer::Mapped { file: source, page: first } = buffer {
            for i in 0..pages {
                if self.handle_mm_fault(source, first + i, write.is_none()).is_err() {
                    self.release_all("inode_dio_end", held);
                    if let Some(h) = i_rwsem {
                        self.release("inode_unlock", h);
                    }
                    return Err(Outcome::Efault);
                }
            }
        }
        if self.policy.dio_range_lock {
            held.push(self.acquire("range_lock", range_lock, LockMode::Exclusive, range));
        }
        // Write back and invalidate the page cache over the range, so that buffered and
        // direct IO see the same data.
        self.filemap_write_and_wait_range(file, range, "filemap_write_and_wait_range");
        if write.is_some() {
            self.truncate_pagecache_range(file, range);
        }
        let alloc = self.policy.write_alloc;
        let blocks = self.cpu.step(|m| {
            let mut blocks = Vec::new();
            for lblk in page..page + pages {
                let extent = m.kernel.inode(file).blocks[lblk as usize];
                let pblk = match (extent, write) {
                    (Extent::Written(p) | Extent::Unwritten(p), _) => Some(p),
                    (Extent::Hole | Extent::Delalloc, None) => None,
                    (Extent::Hole | Extent::Delalloc, Some(_)) => match m.kernel.alloc_block(file, lblk) {
                        None => {
                            m.emit(actor, "ext4_map_blocks", Change::NoSpace { ino: file, lblk });
                            return Err(());
                        }
                        Some(p) => {
                            let extent = alloc.allocated(p);
                            m.kernel.inode_mut(file).blocks[lblk as usize] = extent;
                            Some(p)
                        }
                    },
                };
                let shown = m.kernel.inode(file).blocks[lblk as usize];
                m.emit(
                    actor,
                    "ext4_map_blocks",
                    Change::BlockMapped {
                        ino: file,
                        lblk,
                        extent: shown,
                        allocated: extent.pblk().is_none() && pblk.is_some(),
                    },
                );
                blocks.push(pblk);
            }
            Ok(blocks)
        });
        let Ok(blocks) = blocks else {
            self.release_all("inode_dio_end", held);
            if let Some(h) = i_rwsem {
                self.release("inode_unlock", h);
            }
            return Err(Outcome::Enospc);
        };
        self.cpu.step(|m| m.emit(actor, "submit_bio", Change::BioSubmitted { ino: file, range }));
        if let Some(h) = i_rwsem {
            self.release("inode_unlock", h);
        }
        Ok(Bio { file, page, blocks, write, held })
    }

    /// Completes a direct IO: the data moves (`dio_bio_end_io`), unwritten extents are
    /// converted, and `inode_dio_end` drops the count.
    pub fn dio_complete(&mut self, bio: Bio) -> u32 {
        let actor = self.actor;
        let Bio { file, page, blocks, write, held } = bio;
        let mut moved = 0;
        for (i, pblk) in blocks.iter().enumerate() {
            let lblk = page + i as Lblk;
            self.cpu.step(|m| match (write, *pblk) {
                (Some(write), Some(pblk)) => {
                    let token = Token::Data { ino: file, lblk, write };
                    m.kernel.disk[pblk as usize] = token;
                    m.emit(actor, "dio_bio_end_io", Change::DiskWrite { pblk, ino: file, lblk, token });
                    let blocks = &mut m.kernel.inode_mut(file).blocks;
                    if blocks[lblk as usize] == Extent::Unwritten(pblk) {
                        blocks[lblk as usize] = Extent::Written(pblk);
                    }
                }
                (None, pblk) => {
                    let extent = m.kernel.inode(file).blocks[lblk as usize];
                    // The bio reads the block it was mapped to, whoever owns it by now.
                    let token = match (pblk, extent) {
                        (Some(_), Extent::Unwritten(_)) | (None, _) => Token::Zero,
                        (Some(p), _) => m.kernel.disk[p as usize],
                    };
                    m.emit(
                        actor,
                        "dio_bio_end_io",
                        Change::UserRead { ino: file, index: lblk, token, path: ReadPath::ReadSyscall },
                    );
                }
                (Some(_), None) => m.emit(actor, "dio_bio_end_io", Change::Nothing),
            });
            moved += 1;
        }
        self.release_all("inode_dio_end", held);
        moved
    }

    /// `inode_dio_wait`: waits until no direct IO is in flight on `file`.
    pub fn inode_dio_wait(&mut self, file: Ino) {
        if !self.policy.wait_for_dio {
            return;
        }
        let dio_count = self.cpu.peek(|m| m.kernel.inode(file).i_dio_count);
        let held = self.acquire("inode_dio_wait", dio_count, LockMode::Exclusive, PageRange::WHOLE);
        self.release("inode_dio_wait", held);
    }
}
