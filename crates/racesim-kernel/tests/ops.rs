//! Kernel functions run serially (no concurrency): each must do to the state what the Linux
//! function it is named after does.

use racesim_kernel::event::{Access, Change, Event, SYNC_ACTOR};
use racesim_kernel::state::{Pte, PteTarget, Vma};
use racesim_kernel::types::{Extent, Ino, PageRange, Token};
use racesim_kernel::{
    Kernel, Machine, Operation, Outcome, Policy, SerialCpu, Task, UserBuffer, WriteAllocation, WriteEnds,
};

/// A built-in policy, field by field (racesim-scenario's tests check these equal the lock tables
/// in `policies/`, which this crate cannot parse: the table form belongs to racesim-scenario).
fn policy(name: &str) -> Policy {
    let text = match name {
        "legacy" => include_str!("../../racesim-scenario/tests/fixtures/legacy.fields.toml"),
        "mmaplock" => include_str!("../../racesim-scenario/tests/fixtures/mmaplock.fields.toml"),
        "range_lock" => include_str!("../../racesim-scenario/tests/fixtures/range_lock.fields.toml"),
        "invalidate_lock" => include_str!("../../racesim-scenario/tests/fixtures/invalidate_lock.fields.toml"),
        _ => panic!("no built-in policy {name}"),
    };
    toml::from_str(text).expect("a complete policy file")
}

/// One file of `pages` written pages, mapped shared by mm 0, nothing cached.
fn machine(pages: u32) -> (Machine, Ino) {
    let mut kernel = Kernel::new(32);
    let mm = kernel.add_mm();
    let ino = kernel.add_inode(false);
    kernel.inode_mut(ino).i_size = pages;
    for lblk in 0..pages {
        let pblk = kernel.alloc_block(ino, lblk).unwrap();
        kernel.disk[pblk as usize] = Token::Data { ino, lblk, write: 0 };
        kernel.inode_mut(ino).blocks[lblk as usize] = Extent::Written(pblk);
    }
    kernel.mms[mm as usize].vmas.push(Some(Vma::new(ino, 0, pages)));
    (Machine::new(kernel), ino)
}

/// An empty DAX file of 2 pages (holes), mapped whole, on a disk of `disk_blocks` blocks.
fn dax_machine(disk_blocks: u32) -> (Machine, Ino) {
    let mut kernel = Kernel::new(disk_blocks);
    let mm = kernel.add_mm();
    let ino = kernel.add_inode(true);
    kernel.inode_mut(ino).i_size = 2;
    kernel.mms[mm as usize].vmas.push(Some(Vma::new(ino, 0, 2)));
    (Machine::new(kernel), ino)
}

fn run(machine: &mut Machine, policy: &Policy, op: Operation, write: u32) -> Outcome {
    let mut cpu = SerialCpu::new(machine);
    let mut task = Task::new(&mut cpu, 0, 0, policy);
    let outcome = task.run_operation(0, &op, write);
    assert!(!cpu.stuck, "a serial run never waits on a lock");
    outcome
}

fn pte(machine: &Machine, ino: Ino, index: u32) -> Option<Pte> {
    let (slot, _) = machine.kernel.vma_of(0, ino)?;
    machine.kernel.pte(0, slot, index)
}

#[test]
fn a_store_faults_the_page_in_dirties_it_and_lands() {
    for policy in [policy("legacy"), policy("mmaplock"), policy("range_lock"), policy("invalidate_lock")] {
        let (mut m, ino) = machine(4);
        assert_eq!(run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 7), Outcome::Ok);
        let page = m.kernel.inode(ino).cache[2].expect("the fault cached the page");
        let p = m.kernel.page(page);
        assert!(p.dirty && p.uptodate && p.attached, "{}", policy.name);
        assert_eq!(p.content, Token::Data { ino, lblk: 2, write: 7 });
        let pte = pte(&m, ino, 2).expect("mapped");
        assert!(pte.writable && pte.target == PteTarget::Page(page));
        // Every lock taken was released.
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()), "{}", policy.name);
    }
}

#[test]
fn writeback_cleans_the_page_write_protects_the_pte_and_writes_the_block() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(4);
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 3);
    run(&mut m, &policy, Operation::Writeback { file: ino }, 4);
    let page = m.kernel.inode(ino).cache[1].unwrap();
    assert!(!m.kernel.page(page).dirty);
    assert!(!pte(&m, ino, 1).unwrap().writable, "page_mkclean write-protects");
    assert_eq!(m.kernel.persistent_content(ino, 1), Token::Data { ino, lblk: 1, write: 3 });
    // The next store faults into page_mkwrite again and redirties the page.
    let before = m.log.len();
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 5);
    assert!(m.log[before..].iter().any(|e| e.function == "set_page_dirty"));
    assert!(m.kernel.page(page).dirty);
}

#[test]
fn truncate_evicts_unmaps_and_frees_beyond_the_new_size() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine(4);
    run(&mut m, &policy, Operation::Load { file: ino, page: 3 }, 1);
    let page = m.kernel.inode(ino).cache[3].unwrap();
    let free_before = m.kernel.free_blocks.len();
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 2);
    assert_eq!(m.kernel.inode(ino).i_size, 2);
    assert_eq!(m.kernel.inode(ino).cache[3], None);
    assert!(!m.kernel.page(page).attached);
    assert_eq!(pte(&m, ino, 3), None);
    assert_eq!(m.kernel.inode(ino).blocks[2], Extent::Hole);
    assert_eq!(m.kernel.free_blocks.len(), free_before + 2);
    // A load beyond the new EOF is SIGBUS.
    assert_eq!(run(&mut m, &policy, Operation::Load { file: ino, page: 3 }, 3), Outcome::Sigbus);
}

#[test]
fn collapse_range_shifts_blocks_and_i_size_and_drops_the_page_cache_from_the_offset() {
    let policy = policy("mmaplock");
    let (mut m, ino) = machine(8);
    run(&mut m, &policy, Operation::Store { file: ino, page: 6 }, 9);
    assert_eq!(run(&mut m, &policy, Operation::CollapseRange { file: ino, page: 2, pages: 2 }, 10), Outcome::Ok);
    assert_eq!(m.kernel.inode(ino).i_size, 6);
    assert!(m.kernel.inode(ino).cache[2..].iter().all(|slot| slot.is_none()));
    // The store was flushed before the shift, so it moved with its block from 6 to 4.
    assert_eq!(m.kernel.persistent_content(ino, 4), Token::Data { ino, lblk: 6, write: 9 });
    assert_eq!(m.kernel.persistent_content(ino, 2), Token::Data { ino, lblk: 4, write: 0 });
    // Collapsing a range that reaches EOF is refused.
    assert_eq!(run(&mut m, &policy, Operation::CollapseRange { file: ino, page: 4, pages: 2 }, 11), Outcome::Einval);
}

#[test]
fn punch_hole_leaves_a_hole_and_frees_the_block_lifo() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(4);
    let block = m.kernel.inode(ino).blocks[1].pblk().unwrap();
    run(&mut m, &policy, Operation::PunchHole { file: ino, page: 1, pages: 1 }, 1);
    assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Hole);
    assert_eq!(m.kernel.persistent_content(ino, 1), Token::Zero);
    // LIFO reuse: the next allocation gets the block punch just freed.
    let other = m.kernel.add_inode(false);
    assert_eq!(m.kernel.alloc_block(other, 0), Some(block));
}

#[test]
fn a_failed_copy_after_whole_range_allocation_leaves_stale_blocks_and_per_page_does_not() {
    let policy = policy("legacy");
    for (allocation, stale) in [(WriteAllocation::WholeRange, true), (WriteAllocation::PerPage, false)] {
        let mut kernel = Kernel::new(16);
        kernel.add_mm();
        let ino = kernel.add_inode(false);
        kernel.inode_mut(ino).i_size = 4;
        let mut m = Machine::new(kernel);
        let op = Operation::Write {
            file: ino,
            page: 0,
            pages: 4,
            buffer: UserBuffer::Anonymous,
            fail_at: Some(2),
            allocation,
            ends: WriteEnds::default(),
        };
        assert_eq!(run(&mut m, &policy, op, 1), Outcome::Pages(2));
        // Per page, the failed page's new block was zeroed in the page cache; sync writes it.
        run(&mut m, &policy, Operation::Fsync { file: ino }, 2);
        let exposed = (2..4).any(|l| matches!(m.kernel.persistent_content(ino, l), Token::Leftover { .. }));
        assert_eq!(exposed, stale, "{allocation:?}");
    }
}

/// The failed write's cleanup, serially: ext4 (`truncate_past_eof`) frees what the write
/// allocated past `i_size` and evicts its page, and leaves blocks inside EOF alone; iomap XFS
/// (`punch_delalloc`) punches the reservations it made over what it did not copy, inside EOF too;
/// `none` (policies from before the field) undoes nothing.
#[test]
fn a_failed_write_undoes_its_allocation_as_the_policy_says() {
    use racesim_kernel::policy::{AllocKind, FailedWriteCleanup};
    let write = |fail_at, pages| Operation::Write {
        file: 0,
        page: 0,
        pages,
        buffer: UserBuffer::Anonymous,
        fail_at: Some(fail_at),
        allocation: WriteAllocation::WholeRange,
        ends: WriteEnds::default(),
    };
    let setup = |i_size: u32| {
        let mut kernel = Kernel::new(16);
        kernel.add_mm();
        let ino = kernel.add_inode(false);
        kernel.inode_mut(ino).i_size = i_size;
        Machine::new(kernel)
    };
    // An extending write of 4 pages into an empty file, failing at page 2: i_size ends at 2.
    for (cleanup, freed) in [(FailedWriteCleanup::TruncatePastEof, true), (FailedWriteCleanup::None, false)] {
        let mut policy = policy("legacy");
        policy.failed_write_cleanup = cleanup;
        let mut m = setup(0);
        assert_eq!(run(&mut m, &policy, write(2, 4), 1), Outcome::Pages(2));
        assert_eq!(m.kernel.inode(0).i_size, 2);
        let blocks = &m.kernel.inode(0).blocks;
        assert!(matches!(blocks[0], Extent::Written(_)) && matches!(blocks[1], Extent::Written(_)), "{cleanup:?}");
        assert_eq!(blocks[2] == Extent::Hole && blocks[3] == Extent::Hole, freed, "{cleanup:?}");
        assert_eq!(m.kernel.inode(0).cache[2].is_none(), freed, "{cleanup:?}");
    }
    // Inside EOF ext4 keeps the blocks (failed_write.toml's stale data); XFS punches its
    // reservations.
    let mut ext4 = policy("legacy");
    ext4.failed_write_cleanup = FailedWriteCleanup::TruncatePastEof;
    let mut m = setup(4);
    assert_eq!(run(&mut m, &ext4, write(2, 4), 1), Outcome::Pages(2));
    assert!(matches!(m.kernel.inode(0).blocks[3], Extent::Written(_)));
    let mut xfs = policy("legacy");
    xfs.write_alloc = AllocKind::Delalloc;
    xfs.failed_write_cleanup = FailedWriteCleanup::PunchDelalloc;
    let mut m = setup(4);
    assert_eq!(run(&mut m, &xfs, write(2, 4), 1), Outcome::Pages(2));
    let blocks = &m.kernel.inode(0).blocks;
    assert_eq!(
        [blocks[0], blocks[1], blocks[2], blocks[3]],
        [Extent::Delalloc, Extent::Delalloc, Extent::Hole, Extent::Hole]
    );
}

#[test]
fn every_event_of_a_kernel_step_names_what_it_touched() {
    let policy = policy("range_lock");
    let (mut m, ino) = machine(8);
    for (i, op) in [
        Operation::Store { file: ino, page: 6 },
        Operation::Read { file: ino, page: 0, pages: 3, buffer: UserBuffer::Anonymous },
        Operation::Writeback { file: ino },
        Operation::CollapseRange { file: ino, page: 2, pages: 2 },
        Operation::PunchHole { file: ino, page: 0, pages: 1 },
        Operation::Write {
            file: ino,
            page: 0,
            pages: 2,
            buffer: UserBuffer::Anonymous,
            fail_at: None,
            allocation: WriteAllocation::PerPage,
            ends: WriteEnds::default(),
        },
        Operation::Truncate { file: ino, size: 1, half: false },
    ]
    .into_iter()
    .enumerate()
    {
        run(&mut m, &policy, op, i as u32 + 1);
    }
    let mut accesses: Vec<Access> = Vec::new();
    for Event { change, function, .. } in &m.log {
        accesses.clear();
        change.accesses(&mut accesses);
        let bookkeeping = matches!(change, Change::OpBegin { .. } | Change::OpEnd { .. } | Change::Nothing);
        assert!(bookkeeping || !accesses.is_empty(), "{function}: {change:?} names no object");
    }
}

#[test]
fn the_state_is_comparable_and_hashable_and_runs_are_deterministic() {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let policy = policy("legacy");
    let once = || {
        let (mut m, ino) = machine(4);
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 1);
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 1, half: false }, 2);
        let mut h = DefaultHasher::new();
        m.kernel.hash(&mut h);
        (m.kernel, h.finish(), m.log)
    };
    let (a, ha, la) = once();
    let (b, hb, lb) = once();
    assert_eq!(a, b);
    assert_eq!(ha, hb);
    assert_eq!(la, lb);
    let _ = (SYNC_ACTOR, PageRange::WHOLE);
}

/// Bounds follow EOF as it is when the operation runs: a punch past EOF is cut one page past
/// it (`ext4_punch_hole`) or does nothing, zero range extends the file, a direct read stops at
/// EOF, a direct write past EOF extends the file once its data is on disk.
#[test]
fn operations_follow_eof_at_run_time() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine(2);
    // Punch from EOF on: nothing to do, not even the locks beyond i_rwsem.
    let before = m.log.len();
    assert_eq!(run(&mut m, &policy, Operation::PunchHole { file: ino, page: 2, pages: 4 }, 1), Outcome::Ok);
    assert!(!m.log[before..].iter().any(|e| matches!(e.change, Change::BlocksFreed { .. })));
    // A direct read of [1, 5) of a 2-page file reads one page.
    let read = Operation::DioRead { file: ino, page: 1, pages: 4, buffer: UserBuffer::Anonymous };
    assert_eq!(run(&mut m, &policy, read, 2), Outcome::Pages(1));
    // Zero range [3, 4) extends the file to 4 pages.
    assert_eq!(run(&mut m, &policy, Operation::ZeroRange { file: ino, page: 3, pages: 1 }, 3), Outcome::Ok);
    assert_eq!(m.kernel.inode(ino).i_size, 4);
    assert!(matches!(m.kernel.inode(ino).blocks[3], Extent::Unwritten(_)));
    // A direct write of page 5 extends it to 6 pages.
    let write = dio_write(ino, 5, 1, true, WriteEnds::default());
    assert_eq!(run(&mut m, &policy, write, 4), Outcome::Pages(1));
    assert_eq!(m.kernel.inode(ino).i_size, 6);
    assert_eq!(m.kernel.persistent_content(ino, 5), Token::Data { ino, lblk: 5, write: 4 });
    // A punch of [5, 9) reaches past EOF: cut at one page past it, it frees block 5 only.
    let before = m.log.len();
    run(&mut m, &policy, Operation::PunchHole { file: ino, page: 5, pages: 4 }, 5);
    let freed: Vec<_> = m.log[before..]
        .iter()
        .filter_map(|e| match e.change {
            Change::BlocksFreed { range, count, .. } => Some((range, count)),
            _ => None,
        })
        .collect();
    assert_eq!(freed, vec![(PageRange::new(5, 7), 1)]);
    assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()), "every lock was released");
}

#[test]
fn readpage_gives_a_fresh_page_no_buffers_and_a_page_with_buffers_reads_its_cached_block() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(4);
    // A fresh page goes through the mpage path: read with a bio, no buffer heads.
    run(&mut m, &policy, Operation::Read { file: ino, page: 1, pages: 1, buffer: UserBuffer::Anonymous }, 1);
    let fresh = m.kernel.inode(ino).cache[1].unwrap();
    assert!(!m.kernel.page(fresh).buffers && m.kernel.page(fresh).buffer_pblk.is_none());
    assert!(m.log.iter().any(|e| e.function == "mpage_readpage"));
    // A failed copy over a written block leaves the page cached, not uptodate, with its buffer
    // mapped to the block (write_begin's get_block).
    let op = Operation::Write {
        file: ino,
        page: 2,
        pages: 1,
        buffer: UserBuffer::Anonymous,
        fail_at: Some(0),
        allocation: WriteAllocation::PerPage,
        ends: WriteEnds::default(),
    };
    assert_eq!(run(&mut m, &policy, op, 2), Outcome::Efault);
    let page = m.kernel.inode(ino).cache[2].unwrap();
    let cached = m.kernel.page(page).buffer_pblk.expect("write_begin mapped the buffer");
    assert!(m.kernel.page(page).buffers && !m.kernel.page(page).uptodate);
    // Point the block map elsewhere behind the page's back: block_read_full_page reads the
    // block the buffer caches (b_blocknr), not the one the map names now.
    let elsewhere = m.kernel.alloc_block(ino, 2).unwrap();
    m.kernel.inode_mut(ino).blocks[2] = Extent::Written(elsewhere);
    let before = m.log.len();
    run(&mut m, &policy, Operation::Read { file: ino, page: 2, pages: 1, buffer: UserBuffer::Anonymous }, 3);
    assert!(m.log[before..].iter().any(|e| e.function == "block_read_full_page"));
    assert_eq!(m.kernel.page(page).content, Token::Data { ino, lblk: 2, write: 0 });
    assert_eq!(m.kernel.page(page).buffer_pblk, Some(cached));
}

#[test]
fn dax_zeroing_happens_where_the_policy_says() {
    for (name, zeroed_in_insert_mapping) in [("legacy", true), ("mmaplock", false), ("invalidate_lock", false)] {
        let policy = policy(name);
        let (mut m, ino) = dax_machine(8);
        assert_eq!(run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 4), Outcome::Ok);
        let zeroing = m.log.iter().position(|e| {
            e.function == "dax_insert_mapping" && matches!(e.change, Change::DiskWrite { token: Token::Zero, .. })
        });
        assert_eq!(zeroing.is_some(), zeroed_in_insert_mapping, "{name}");
        if let Some(at) = zeroing {
            // After the i_size check, before the PTE goes in.
            let insert = m.log.iter().position(|e| e.function == "vm_insert_mixed").unwrap();
            let check = m.log.iter().position(|e| matches!(e.change, Change::ISizeCheck { .. })).unwrap();
            assert!(check < at && at < insert, "{name}");
        }
        assert_eq!(m.kernel.persistent_content(ino, 1), Token::Data { ino, lblk: 1, write: 4 }, "{name}");
    }
}

/// A DAX write fault into a hole on a full disk: `dax_iomap_begin` finds no block and the fault
/// ends in SIGBUS (`dax_fault_return(-ENOSPC)`), reported as ENOSPC like `page_mkwrite`'s (a
/// SIGBUS outcome would tell the reference model the page was beyond EOF: a false lost write).
#[test]
fn a_dax_store_that_finds_no_space_reports_enospc() {
    for name in ["legacy", "mmaplock", "invalidate_lock"] {
        let policy = policy(name);
        let (mut m, ino) = dax_machine(0);
        assert_eq!(run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 4), Outcome::Enospc, "{name}");
        assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Hole, "{name}");
        assert!(pte(&m, ino, 1).is_none(), "{name}");
    }
}

/// fallocate mode 0 keeps the size with FALLOC_FL_KEEP_SIZE and extends it without.
#[test]
fn fallocate_extends_the_file_only_without_keep_size() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(2);
    run(&mut m, &policy, Operation::Fallocate { file: ino, page: 2, pages: 2, keep_size: true }, 1);
    assert_eq!(m.kernel.inode(ino).i_size, 2);
    assert!(matches!(m.kernel.inode(ino).blocks[3], Extent::Unwritten(_)));
    run(&mut m, &policy, Operation::Fallocate { file: ino, page: 3, pages: 2, keep_size: false }, 2);
    assert_eq!(m.kernel.inode(ino).i_size, 5);
    assert!(matches!(m.kernel.inode(ino).blocks[4], Extent::Unwritten(_)));
}

/// read(2) into a shared mapping of the pages it reads: each page is read in and unlocked, then
/// copied; the copy faults on the destination (no PTE yet) for writing, page_mkwrite locks the
/// very page the read just unlocked, and the copy stores the read's data through the new PTE.
#[test]
fn a_read_into_a_mapping_of_the_same_pages_faults_and_stores_its_data() {
    for policy in [policy("legacy"), policy("mmaplock"), policy("range_lock"), policy("invalidate_lock")] {
        let (mut m, ino) = machine(4);
        let op = Operation::Read { file: ino, page: 0, pages: 2, buffer: UserBuffer::Mapped { file: ino, page: 0 } };
        assert_eq!(run(&mut m, &policy, op, 5), Outcome::Pages(2), "{}", policy.name);
        for lblk in 0..2 {
            let page = m.kernel.inode(ino).cache[lblk as usize].expect("read cached it");
            let p = m.kernel.page(page);
            assert!(p.dirty && p.uptodate, "{}", policy.name);
            assert_eq!(p.content, Token::Data { ino, lblk, write: 5 }, "{}", policy.name);
            assert!(pte(&m, ino, lblk).is_some_and(|pte| pte.writable));
        }
        // What the read returned is what the page held before its own store.
        let seen: Vec<Token> = m
            .log
            .iter()
            .filter_map(|e| match e.change {
                Change::UserRead { token, .. } => Some(token),
                _ => None,
            })
            .collect();
        assert_eq!(seen, vec![Token::Data { ino, lblk: 0, write: 0 }, Token::Data { ino, lblk: 1, write: 0 }]);
        let probe = m.log.iter().position(|e| e.function == "copy_to_user").unwrap();
        let mkwrite = m.log.iter().position(|e| e.function == "block_page_mkwrite").unwrap();
        let copied = m.log.iter().position(|e| e.function == "copy_page_to_user").unwrap();
        assert!(probe < mkwrite && mkwrite < copied, "{}", policy.name);
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()), "every lock was released");
    }
}

/// A copy into a buffer that is not mapped fails: EFAULT when nothing was copied.
#[test]
fn a_read_into_an_unmapped_buffer_fails_with_efault() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(2);
    m.kernel.mms[0].vmas.clear();
    let op = Operation::Read { file: ino, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: ino, page: 0 } };
    assert_eq!(run(&mut m, &policy, op, 1), Outcome::Efault);
}

/// One page of 1 KiB blocks (four blocks, all written), mapped shared by mm 0, nothing cached.
fn machine_of_1k_blocks() -> (Machine, Ino) {
    let mut kernel = Kernel::new(32);
    let mm = kernel.add_mm();
    let ino = kernel.add_inode(false);
    kernel.inode_mut(ino).blocks_per_page = 4;
    kernel.inode_mut(ino).i_size = 4;
    for lblk in 0..4 {
        let pblk = kernel.alloc_block(ino, lblk).unwrap();
        kernel.disk[pblk as usize] = Token::Data { ino, lblk, write: 0 };
        kernel.inode_mut(ino).blocks[lblk as usize] = Extent::Written(pblk);
    }
    kernel.mms[mm as usize].vmas.push(Some(Vma::new(ino, 0, 1)));
    (Machine::new(kernel), ino)
}

#[test]
fn truncate_inside_a_page_zeroes_its_tail_and_writeback_zeroes_past_eof() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    // A store to block 1 faults the page in; page_mkwrite maps its four blocks.
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 2);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    assert!(m.kernel.page(page).bh.iter().all(|b| b.mapped.is_some()));
    // Truncate to 2 blocks: the page stays cached and mapped; its tail is zeroed, its buffers
    // there discarded, and blocks 2 and 3 freed.
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 3);
    let p = m.kernel.page(page);
    assert!(p.attached && pte(&m, ino, 0).is_some());
    assert_eq!(p.bh[1].content, Token::Data { ino, lblk: 1, write: 2 });
    assert!(p.bh[2..].iter().all(|b| b.content == Token::Zero && b.mapped.is_none()));
    assert_eq!(m.kernel.inode(ino).blocks[2], Extent::Hole);
    // The PTE is still writable: a store past EOF inside the page lands in the page only.
    run(&mut m, &policy, Operation::Store { file: ino, page: 3 }, 4);
    assert_eq!(m.kernel.page(page).bh[3].content, Token::Data { ino, lblk: 3, write: 4 });
    // Writeback writes the two blocks inside EOF and zeroes the rest of the page.
    run(&mut m, &policy, Operation::Writeback { file: ino }, 5);
    assert_eq!(m.kernel.persistent_content(ino, 1), Token::Data { ino, lblk: 1, write: 2 });
    assert_eq!(m.kernel.page(page).bh[3].content, Token::Zero);
    assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
}

/// block_page_mkwrite reads i_size once, under the page lock: "size = i_size_read(inode)" both
/// decides that the page is still inside EOF and bounds the buffers it maps on the page that
/// straddles EOF ("end = size & ~PAGE_MASK"; iomap_page_mkwrite the same). A truncate up that
/// writes i_size after the check (it does not take the page lock to) leaves the mapped buffers
/// as the check saw them; the truncate's pagecache_isize_extended then write-protects the page.
#[test]
fn page_mkwrite_maps_the_buffers_inside_the_i_size_its_check_read() {
    let policy = policy("legacy");
    let (mut m, ino) = machine_of_1k_blocks();
    // A load faults the page in read-only; a truncate to 2 blocks frees blocks 2 and 3.
    run(&mut m, &policy, Operation::Load { file: ino, page: 0 }, 1);
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 2);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    // A store to block 1 runs page_mkwrite; right after its EOF check, i_size grows to the
    // page's end, as a truncate up running then would make it.
    let mut grown = false;
    let before_step = |m: &mut Machine| {
        let checked = matches!(
            m.log.last().map(|e| (e.function, &e.change)),
            Some(("block_page_mkwrite", Change::MappingCheck { attached: true, .. }))
        );
        if checked && !grown {
            m.kernel.inode_mut(ino).i_size = 4;
            grown = true;
        }
    };
    let mut cpu = HookedCpu { inner: SerialCpu::new(&mut m), before_step };
    let mut task = Task::new(&mut cpu, 0, 0, &policy);
    assert_eq!(task.run_operation(0, &Operation::Store { file: ino, page: 1 }, 3), Outcome::Ok);
    assert!(grown, "the store ran page_mkwrite");
    let bh = &m.kernel.page(page).bh;
    assert!(bh[..2].iter().all(|b| b.mapped.is_some()), "the buffers inside the sampled EOF are mapped");
    assert!(bh[2..].iter().all(|b| b.mapped.is_none()), "the buffers past it are not");
    assert_eq!(m.kernel.inode(ino).blocks[2..4], [Extent::Hole, Extent::Hole], "nothing allocated past it");
}

/// Writeback of a page of 1 KiB blocks decides on i_size which buffers it writes and which it
/// zeroes (block_write_full_page, ext4_bio_write_page's caller): the step says it read i_size,
/// so the exhaustive search orders it against a truncate that changes the size, whether or not
/// the page straddles EOF.
#[test]
fn sub_page_writeback_declares_its_read_of_i_size() {
    let policy = policy("invalidate_lock");
    for size in [4, 2] {
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 1);
        if size < 4 {
            run(&mut m, &policy, Operation::Truncate { file: ino, size, half: false }, 2);
            run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 3);
        }
        let step_starts = writeback_in_steps(&mut m, &policy, ino);
        let io = m.log.iter().position(|e| matches!(e.change, Change::DiskWrite { .. })).expect("IO");
        let start = step_starts[step_starts.iter().rposition(|&s| s <= io).unwrap()];
        let end = step_starts.iter().copied().find(|&s| s > io).unwrap_or(m.log.len());
        let mut accesses = Vec::new();
        for e in &m.log[start..end] {
            e.accesses(&mut accesses);
        }
        let read_i_size = Access { object: racesim_kernel::event::Object::ISize(ino), write: false };
        assert!(accesses.contains(&read_i_size), "i_size {size}: the IO's step declares i_size: {accesses:?}");
    }
}

/// A punch of whole blocks inside a page of 1 KiB blocks leaves the page cached and mapped
/// (ext4); 17207d0bb209 (6.15) write-protects it first, so the next store faults and
/// page_mkwrite maps the punched block again, as the policy's `punch_partial_page` says.
#[test]
fn a_punch_write_protects_the_page_straddling_its_edge_as_the_policy_says() {
    use racesim_kernel::policy::PunchPartialPage;
    for (what, writable_after) in [(PunchPartialPage::WriteProtect, false), (PunchPartialPage::Zero, true)] {
        let mut policy = policy("invalidate_lock");
        policy.punch_partial_page = what;
        // Without the write-out before the punch (6.15 outside data=journal), which would
        // write-protect the page itself.
        policy.punch_hole_flush = racesim_kernel::policy::RangeFlush::None;
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 1);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        assert!(pte(&m, ino, 0).unwrap().writable);
        run(&mut m, &policy, Operation::PunchHole { file: ino, page: 2, pages: 2 }, 2);
        assert!(m.kernel.page(page).attached, "{what:?}: the page straddling the hole stays cached");
        assert_eq!(pte(&m, ino, 0).map(|p| p.writable), Some(writable_after), "{what:?}");
        assert!(m.kernel.page(page).dirty, "{what:?}: the dirty PTE's dirtiness stays with the page");
        // A store to the punched block 2: through the writable PTE into a discarded buffer, or
        // through a write fault whose page_mkwrite maps the block again.
        run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 3);
        assert_eq!(m.kernel.page(page).bh[2].mapped.is_some(), !writable_after, "{what:?}");
    }
}

#[test]
fn pagecache_isize_extended_write_protects_the_straddling_page_as_the_policy_says() {
    use racesim_kernel::policy::IsizeExtended;
    for (what, writable_after) in [(IsizeExtended::WriteProtect, false), (IsizeExtended::None, true)] {
        let mut policy = policy("legacy");
        policy.pagecache_isize_extended = what;
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 1);
        // page_mkwrite maps only the two blocks inside EOF.
        run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        let mapped: Vec<bool> = m.kernel.page(page).bh.iter().map(|b| b.mapped.is_some()).collect();
        assert_eq!(mapped, [true, true, false, false]);
        assert!(pte(&m, ino, 0).unwrap().writable);
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 4, half: false }, 3);
        assert_eq!(pte(&m, ino, 0).unwrap().writable, writable_after, "{what:?}");
        assert!(m.kernel.page(page).dirty, "{what:?}: the dirty PTE's dirtiness stays with the page");
    }
}

/// write(2) of blocks 1 and 2 of a page that is not cached: `__block_write_begin` maps only
/// those two buffers and reads nothing, the page stays not uptodate (blocks 0 and 3 are not),
/// writeback writes only the two written blocks, and a fault then reads the other two from disk
/// (`block_read_full_page` leaves uptodate buffers alone).
#[test]
fn a_write_of_part_of_a_page_of_smaller_blocks_leaves_the_other_blocks_alone() {
    let policy = policy("legacy");
    let (mut m, ino) = machine_of_1k_blocks();
    let write = Operation::Write {
        file: ino,
        page: 1,
        pages: 2,
        buffer: UserBuffer::Anonymous,
        fail_at: None,
        allocation: WriteAllocation::PerPage,
        ends: WriteEnds::default(),
    };
    assert_eq!(run(&mut m, &policy, write, 1), Outcome::Pages(2));
    let page = m.kernel.inode(ino).cache[0].unwrap();
    let p = m.kernel.page(page);
    assert!(p.dirty && !p.uptodate);
    let uptodate: Vec<bool> = p.bh.iter().map(|b| b.uptodate).collect();
    assert_eq!(uptodate, [false, true, true, false]);
    let mapped: Vec<bool> = p.bh.iter().map(|b| b.mapped.is_some()).collect();
    assert_eq!(mapped, [false, true, true, false]);
    run(&mut m, &policy, Operation::Writeback { file: ino }, 2);
    let on_disk: Vec<Token> = (0..4).map(|l| m.kernel.persistent_content(ino, l)).collect();
    let written = |lblk| Token::Data { ino, lblk, write: 1 };
    let initial = |lblk| Token::Data { ino, lblk, write: 0 };
    assert_eq!(on_disk, [initial(0), written(1), written(2), initial(3)]);
    run(&mut m, &policy, Operation::Load { file: ino, page: 3 }, 3);
    let p = m.kernel.page(page);
    assert!(p.uptodate);
    let contents: Vec<Token> = p.bh.iter().map(|b| b.content).collect();
    assert_eq!(contents, [initial(0), written(1), written(2), initial(3)]);
    assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
}

/// A write(2) that starts past the page straddling EOF runs `pagecache_isize_extended(old_size,
/// pos)` from its write_end (90a8020278c1): the PTE `page_mkwrite` made writable while that page
/// straddled EOF is write-protected, or, before 3.18, stays writable.
#[test]
fn an_extending_write_runs_pagecache_isize_extended_as_the_policy_says() {
    use racesim_kernel::policy::IsizeExtended;
    for (what, writable_after) in [(IsizeExtended::WriteProtect, false), (IsizeExtended::None, true)] {
        let mut policy = policy("legacy");
        policy.pagecache_isize_extended = what;
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 1);
        run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
        assert!(pte(&m, ino, 0).unwrap().writable);
        let write = Operation::Write {
            file: ino,
            page: 4,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            fail_at: None,
            allocation: WriteAllocation::PerPage,
            ends: WriteEnds::default(),
        };
        assert_eq!(run(&mut m, &policy, write, 3), Outcome::Pages(1));
        assert_eq!(m.kernel.inode(ino).i_size, 5);
        assert_eq!(pte(&m, ino, 0).unwrap().writable, writable_after, "{what:?}");
    }
}

/// fallocate past EOF (mode 0, or zero range, which allocates through the same
/// `ext4_alloc_file_blocks`) grows `i_size`: XFS's `truncate_setsize` and ext4 since
/// c7fc0366c656 run `pagecache_isize_extended`, which write-protects the PTE `page_mkwrite` made
/// writable while the page straddled EOF; ext4 before it leaves the PTE writable over the blocks
/// fallocate made unwritten. (invalidate_lock: its zero range writes nothing out first, which
/// would write-protect the page whatever the field says.)
#[test]
fn an_extending_fallocate_runs_pagecache_isize_extended_as_the_policy_says() {
    let fallocate = |ino| Operation::Fallocate { file: ino, page: 2, pages: 2, keep_size: false };
    let zero_range = |ino| Operation::ZeroRange { file: ino, page: 2, pages: 2 };
    for extend in [fallocate, zero_range] {
        for (extended, writable_after) in [(true, false), (false, true)] {
            let mut policy = policy("invalidate_lock");
            policy.fallocate_isize_extended = extended;
            let (mut m, ino) = machine_of_1k_blocks();
            run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 1);
            run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
            assert!(pte(&m, ino, 0).unwrap().writable);
            let op = extend(ino);
            assert_eq!(run(&mut m, &policy, op, 3), Outcome::Ok);
            assert_eq!(m.kernel.inode(ino).i_size, 4);
            assert!(matches!(m.kernel.inode(ino).blocks[3], Extent::Unwritten(_)));
            assert_eq!(pte(&m, ino, 0).unwrap().writable, writable_after, "{op:?} {extended}");
        }
    }
}

/// madvise(MADV_REMOVE) on a file of 1 KiB blocks punches the blocks of whole pages of the
/// mapping (madvise takes a page-aligned range), and refuses a page the mapping does not cover.
#[test]
fn madvise_remove_of_a_file_of_smaller_blocks_punches_whole_pages() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    run(&mut m, &policy, Operation::Load { file: ino, page: 1 }, 1);
    assert!(m.kernel.inode(ino).cache[0].is_some());
    let beyond = Operation::MadviseRemove { file: ino, page: 4, pages: 4 };
    assert_eq!(run(&mut m, &policy, beyond, 2), Outcome::Einval, "the mapping covers page 0 only");
    assert_eq!(run(&mut m, &policy, Operation::MadviseRemove { file: ino, page: 0, pages: 4 }, 3), Outcome::Ok);
    assert!((0..4).all(|l| m.kernel.inode(ino).blocks[l] == Extent::Hole));
    assert!(m.kernel.inode(ino).cache[0].is_none() && pte(&m, ino, 0).is_none(), "evicted and unmapped");
}

/// mlock sets VM_LOCKED on its range of the mapping, and madvise(MADV_REMOVE) refuses a locked
/// range with EINVAL and punches nothing; a range outside the mlock's is still removed. A new
/// mapping starts unlocked.
#[test]
fn madvise_remove_refuses_an_mlocked_range() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine(4);
    assert_eq!(run(&mut m, &policy, Operation::Mlock { file: ino, page: 1, pages: 2 }, 1), Outcome::Ok);
    let vma = m.kernel.mms[0].vmas[0].as_ref().unwrap();
    assert_eq!(vma.locked, [false, true, true, false]);
    let locked = Operation::MadviseRemove { file: ino, page: 1, pages: 1 };
    assert_eq!(run(&mut m, &policy, locked, 2), Outcome::Einval);
    assert!(matches!(m.kernel.inode(ino).blocks[1], Extent::Written(_)), "nothing punched");
    assert!(m.log.iter().any(|e| matches!(e.change, Change::VmaLocked { .. })));
    assert_eq!(run(&mut m, &policy, Operation::MadviseRemove { file: ino, page: 3, pages: 1 }, 3), Outcome::Ok);
    assert_eq!(m.kernel.inode(ino).blocks[3], Extent::Hole);
    run(&mut m, &policy, Operation::Munmap { file: ino }, 4);
    run(&mut m, &policy, Operation::Mmap { file: ino }, 5);
    assert_eq!(run(&mut m, &policy, Operation::MadviseRemove { file: ino, page: 1, pages: 1 }, 6), Outcome::Ok);
    assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Hole, "a new mapping is not locked");
}

/// An mlock that runs past the mapping locks the mapped part and returns ENOMEM (do_mlock's
/// loop stops at the gap), so an MADV_REMOVE there is still refused; a DAX mapping is never
/// locked (`mlock_fixup` skips it), so an MADV_REMOVE of it punches.
#[test]
fn mlock_locks_the_mapped_part_of_its_range_and_never_a_dax_mapping() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine(4);
    assert_eq!(run(&mut m, &policy, Operation::Mlock { file: ino, page: 2, pages: 4 }, 1), Outcome::Enomem);
    assert_eq!(m.kernel.mms[0].vmas[0].as_ref().unwrap().locked, [false, false, true, true]);
    assert_eq!(run(&mut m, &policy, Operation::MadviseRemove { file: ino, page: 3, pages: 1 }, 2), Outcome::Einval);
    assert_eq!(run(&mut m, &policy, Operation::Mlock { file: ino, page: 4, pages: 1 }, 3), Outcome::Enomem);

    let (mut m, dax) = dax_machine(8);
    assert_eq!(run(&mut m, &policy, Operation::Mlock { file: dax, page: 0, pages: 2 }, 1), Outcome::Ok);
    assert_eq!(m.kernel.mms[0].vmas[0].as_ref().unwrap().locked, [false, false]);
    assert_eq!(run(&mut m, &policy, Operation::MadviseRemove { file: dax, page: 0, pages: 1 }, 2), Outcome::Ok);
}

/// iomap (XFS 4.8+): one `->iomap_begin` maps the holes of a two-page write as one delayed
/// extent, both pages are written with that map, and writeback allocates their blocks; with
/// the validity cookie (6.2+) each folio's check finds the map still valid when nothing
/// changed the block map in between.
#[test]
fn an_iomap_write_maps_its_run_of_holes_once_and_writes_every_page_with_that_map() {
    use racesim_kernel::policy::{AllocKind, BufferedWriteMap};
    for map in [BufferedWriteMap::Iomap, BufferedWriteMap::IomapRevalidate] {
        let mut policy = policy("mmaplock");
        policy.write_alloc = AllocKind::Delalloc;
        policy.buffered_write_map = map;
        let mut kernel = Kernel::new(16);
        kernel.add_mm();
        let ino = kernel.add_inode(false);
        let mut m = Machine::new(kernel);
        let op = Operation::Write {
            file: ino,
            page: 0,
            pages: 2,
            buffer: UserBuffer::Anonymous,
            fail_at: None,
            allocation: WriteAllocation::PerPage,
            ends: WriteEnds::default(),
        };
        assert_eq!(run(&mut m, &policy, op, 1), Outcome::Pages(2));
        let begins: Vec<Change> =
            m.log.iter().filter(|e| e.function == "xfs_buffered_write_iomap_begin").map(|e| e.change).collect();
        assert_eq!(
            begins,
            [Change::IomapMapped { ino, range: PageRange::new(0, 2), extent: Extent::Delalloc, new: true }],
            "{map:?}"
        );
        let checks = m.log.iter().filter(|e| matches!(e.change, Change::IomapValid { valid: true, .. })).count();
        assert_eq!(checks, if map == BufferedWriteMap::IomapRevalidate { 2 } else { 0 });
        assert_eq!(m.kernel.inode(ino).blocks[..2], [Extent::Delalloc, Extent::Delalloc]);
        run(&mut m, &policy, Operation::Fsync { file: ino }, 2);
        for lblk in 0..2 {
            assert_eq!(m.kernel.persistent_content(ino, lblk), Token::Data { ino, lblk, write: 1 }, "{map:?}");
        }
    }
}

/// A cached-map write that fails still cleans up what it reserved, as the policy's
/// `failed_write_cleanup` says, over what `->iomap_end` sees: the part of the map it did not
/// write (`xfs_buffered_write_iomap_end` punches from the failed page to the end of the mapped
/// extent), where a write that maps per page reserved only up to the failing page.
#[test]
fn a_failed_iomap_write_punches_the_rest_of_its_new_map() {
    use racesim_kernel::policy::{AllocKind, BufferedWriteMap, FailedWriteCleanup};
    for (map, reserved_past_failure) in [(BufferedWriteMap::Iomap, true), (BufferedWriteMap::PerPage, false)] {
        for cleanup in [FailedWriteCleanup::PunchDelalloc, FailedWriteCleanup::PunchCleanDelalloc] {
            let mut policy = policy("mmaplock");
            policy.write_alloc = AllocKind::Delalloc;
            policy.buffered_write_map = map;
            policy.failed_write_cleanup = cleanup;
            let mut kernel = Kernel::new(16);
            kernel.add_mm();
            let ino = kernel.add_inode(false);
            let mut m = Machine::new(kernel);
            let op = Operation::Write {
                file: ino,
                page: 0,
                pages: 3,
                buffer: UserBuffer::Anonymous,
                fail_at: Some(1),
                allocation: WriteAllocation::PerPage,
                ends: WriteEnds::default(),
            };
            assert_eq!(run(&mut m, &policy, op, 1), Outcome::Pages(1), "{map:?} {cleanup:?}");
            // Page 0 was written and keeps its reservation; pages 1-2 are holes again.
            assert_eq!(m.kernel.inode(ino).blocks[..3], [Extent::Delalloc, Extent::Hole, Extent::Hole], "{map:?}");
            let punched: Vec<Change> =
                m.log.iter().filter(|e| e.function == "xfs_bmap_punch_delalloc_range").map(|e| e.change).collect();
            let end = if reserved_past_failure { 3 } else { 2 };
            assert_eq!(
                punched,
                [Change::BlocksFreed { ino, range: PageRange::new(1, end), count: 0 }],
                "{map:?} {cleanup:?}"
            );
        }
    }
}

/// A write of half a page that is not cached: the other half comes from the disk where the
/// block is written, and is zeroed where it is a hole or unwritten (`__block_write_begin`
/// under buffer heads, `__iomap_write_begin` under iomap, whose map says the same here).
#[test]
fn a_write_of_half_a_block_reads_or_zeroes_the_other_half() {
    use racesim_kernel::policy::BufferedWriteMap;
    use racesim_kernel::types::PagePart;
    let mut iomap = policy("legacy");
    iomap.buffered_write_map = BufferedWriteMap::Iomap;
    for policy in [policy("legacy"), policy("invalidate_lock"), iomap] {
        let (mut m, ino) = machine(3);
        // Page 1 a hole, page 2 unwritten (its block keeps what it held).
        m.kernel.inode_mut(ino).blocks[1] = Extent::Hole;
        let Extent::Written(pblk) = m.kernel.inode(ino).blocks[2] else { unreachable!() };
        m.kernel.inode_mut(ino).blocks[2] = Extent::Unwritten(pblk);
        let write = |page, first, last| Operation::Write {
            file: ino,
            page,
            pages: 1,
            buffer: UserBuffer::Anonymous,
            fail_at: None,
            allocation: WriteAllocation::PerPage,
            ends: WriteEnds { first, last },
        };
        let (whole, head, tail) = (PagePart::Whole, PagePart::Head, PagePart::Tail);
        assert_eq!(run(&mut m, &policy, write(0, tail, whole), 1), Outcome::Pages(1));
        assert_eq!(run(&mut m, &policy, write(1, whole, head), 2), Outcome::Pages(1));
        assert_eq!(run(&mut m, &policy, write(2, tail, whole), 3), Outcome::Pages(1));
        let data = |lblk, write| Token::Data { ino, lblk, write }.halves()[0];
        let expected = [
            Token::from_halves(data(0, 0), data(0, 1)),
            Token::from_halves(data(1, 2), Token::Zero.halves()[0]),
            Token::from_halves(Token::Zero.halves()[0], data(2, 3)),
        ];
        for (index, expected) in expected.into_iter().enumerate() {
            let page = m.kernel.inode(ino).cache[index].expect("written pages are cached");
            let p = m.kernel.page(page);
            assert!(p.uptodate && p.dirty, "{}: page {index}", policy.name);
            assert_eq!(p.content, expected, "{}: page {index}", policy.name);
        }
        // Writeback writes the halves as they are; a second write of the other half of page 1
        // finds the page uptodate and keeps the first.
        run(&mut m, &policy, Operation::Writeback { file: ino }, 4);
        for (index, expected) in expected.into_iter().enumerate() {
            assert_eq!(m.kernel.persistent_content(ino, index as u32), expected, "{}: block {index}", policy.name);
        }
        assert_eq!(run(&mut m, &policy, write(1, tail, whole), 5), Outcome::Pages(1));
        let page = m.kernel.inode(ino).cache[1].unwrap();
        assert_eq!(m.kernel.page(page).content, Token::from_halves(data(1, 2), data(1, 5)), "{}", policy.name);
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
    }
}

/// A write(2) of blocks 4-6 of a file of 1 KiB blocks (4 blocks long) with room on the disk for
/// two: blocks 4 and 5 get blocks, block 6 finds no space. `page_zero_new_buffers` zeroes the
/// new buffers, and since the chunk reached past `i_size`, `ext4_truncate_failed_write`
/// evicts the page past EOF and frees the two blocks: the file is as it was.
#[test]
fn a_sub_page_write_that_runs_out_of_space_past_eof_is_undone() {
    let policy = policy("legacy");
    let (mut m, ino) = machine_of_1k_blocks();
    // Leave two free blocks.
    while m.kernel.free_blocks.len() > 2 {
        m.kernel.free_blocks.remove(0);
    }
    let free_before = m.kernel.free_blocks.clone();
    let write = anonymous_write(ino, 4, 3, None);
    assert_eq!(run(&mut m, &policy, write, 1), Outcome::Enospc);
    assert_eq!(m.kernel.inode(ino).i_size, 4);
    assert_eq!(m.kernel.inode(ino).cache[1], None, "the page past EOF is evicted");
    assert!((4..8).all(|l| m.kernel.inode(ino).blocks[l] == Extent::Hole));
    let mut free_after = m.kernel.free_blocks.clone();
    free_after.sort_unstable();
    let mut free_before = free_before;
    free_before.sort_unstable();
    assert_eq!(free_after, free_before, "the blocks the write allocated are free again");
    assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
}

/// A write(2) of blocks 3-6 of a file of 1 KiB blocks (4 blocks long) whose user buffer faults
/// at block 5 (`fail_at = 2`). Block 3, in page 0, is copied. Page 1's chunk (blocks 4-6) is
/// mapped new, then its copy stops at block 5; the page is not uptodate, so block_write_end
/// keeps nothing of it ("if (!PageUptodate(page)) copied = 0") and page_zero_new_buffers zeroes
/// the new buffers. The chunk reached past `i_size`, so the policy's cleanup undoes them: ext4
/// (`truncate_past_eof`) evicts the page and frees the blocks; XFS 5.3 (`punch_delalloc`)
/// zeroes them in the page (`truncate_pagecache_range` over those bytes: the page is partial,
/// so it stays) and punches the reservations. The write returns the one block it copied.
#[test]
fn a_sub_page_write_whose_copy_faults_keeps_what_it_copied_and_undoes_the_rest() {
    // XFS's two cleanups, on the buffer-head path every policy runs for such a file:
    // xfs_vm_write_failed's truncation past EOF (4.1) and iomap's punch of the delalloc the
    // write reserved (5.3).
    let xfs = |cleanup| {
        let mut policy = policy("invalidate_lock");
        policy.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
        policy.failed_write_cleanup = cleanup;
        policy
    };
    use racesim_kernel::policy::FailedWriteCleanup;
    let policies = [
        ("legacy", policy("legacy")),
        ("invalidate_lock", policy("invalidate_lock")),
        ("xfs-4.1", xfs(FailedWriteCleanup::TruncatePastEof)),
        ("xfs-5.3", xfs(FailedWriteCleanup::PunchDelalloc)),
    ];
    for (name, policy) in policies {
        let (mut m, ino) = machine_of_1k_blocks();
        let free_before = m.kernel.free_blocks.len();
        let write = anonymous_write(ino, 3, 4, Some(2));
        assert_eq!(run(&mut m, &policy, write, 1), Outcome::Pages(1), "{name}");
        let inode = m.kernel.inode(ino);
        assert_eq!(inode.i_size, 4, "{name}");
        assert!((4..8).all(|l| inode.blocks[l] == Extent::Hole), "{name}: the new blocks are undone");
        assert_eq!(m.kernel.free_blocks.len(), free_before, "{name}: nothing stays allocated");
        let page0 = inode.cache[0].expect("page 0 holds the copied block");
        assert_eq!(m.kernel.page(page0).bh[3].content, Token::Data { ino, lblk: 3, write: 1 }, "{name}");
        match inode.cache[1] {
            None => assert!(!name.starts_with("xfs-5"), "{name}: ext4 evicts the page past EOF"),
            Some(page) => {
                assert_eq!(name, "xfs-5.3", "only a partial truncation keeps page 1");
                let p = m.kernel.page(page);
                assert!(p.bh[..3].iter().all(|bh| bh.content == Token::Zero && bh.mapped.is_none()), "{name}");
            }
        }
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()), "{name}");
    }
}

/// A failing write whose chunk holds a block an earlier write put dirty data in (block 4, in a
/// page that is not uptodate) before the blocks it maps new (5-7): the cleanup undoes only the
/// new ones. XFS 5.3's ->iomap_end punches the failing map, a run of IOMAP_F_NEW blocks; block 4
/// is in a map of its own and keeps its data (the first version truncated the whole rest of the
/// chunk: a false lost_write, found in review).
#[test]
fn a_sub_page_failed_write_leaves_an_earlier_writes_block_alone() {
    let mut xfs = policy("invalidate_lock");
    xfs.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
    xfs.failed_write_cleanup = racesim_kernel::policy::FailedWriteCleanup::PunchDelalloc;
    for (name, policy) in [("invalidate_lock", policy("invalidate_lock")), ("xfs-5.3", xfs)] {
        let (mut m, ino) = machine_of_1k_blocks();
        assert_eq!(run(&mut m, &policy, anonymous_write(ino, 4, 1, None), 1), Outcome::Pages(1), "{name}");
        assert_eq!(run(&mut m, &policy, anonymous_write(ino, 4, 4, Some(0)), 2), Outcome::Efault, "{name}");
        let inode = m.kernel.inode(ino);
        assert_eq!(inode.i_size, 5, "{name}");
        assert!((5..8).all(|l| inode.blocks[l] == Extent::Hole), "{name}: the new blocks are undone");
        let page = m.kernel.page(inode.cache[1].expect("page 1 keeps block 4's data"));
        assert_eq!(page.bh[0].content, Token::Data { ino, lblk: 4, write: 1 }, "{name}");
        assert!(page.dirty, "{name}");
    }
}

/// A write(2) whose buffer faults at its first block, into a page that is uptodate: the blocks
/// before the fault in that page's chunk are kept (none here), and an uptodate page's new
/// buffers were made uptodate and dirty at write_begin; with nothing copied the write fails
/// with EFAULT, and the cleanup frees the block it mapped past EOF.
#[test]
fn a_sub_page_write_that_copies_nothing_fails_with_efault() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    // A store to block 1 brings page 0 in, uptodate; truncate to 2 blocks frees blocks 2-3.
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 2);
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 3);
    let write = anonymous_write(ino, 2, 2, Some(0));
    assert_eq!(run(&mut m, &policy, write, 4), Outcome::Efault);
    let inode = m.kernel.inode(ino);
    assert_eq!(inode.i_size, 2);
    assert!((2..4).all(|l| inode.blocks[l] == Extent::Hole));
    let page = m.kernel.page(inode.cache[0].unwrap());
    assert!(page.bh[2..].iter().all(|bh| bh.content == Token::Zero), "past EOF the page holds zeroes");
}

/// Writes `ino` back with a fresh log; returns where in the log each step began.
fn writeback_in_steps(m: &mut Machine, policy: &Policy, ino: Ino) -> Vec<usize> {
    m.log.clear();
    let mut step_starts = Vec::new();
    let before_step = |m: &mut Machine| step_starts.push(m.log.len());
    let mut cpu = HookedCpu { inner: SerialCpu::new(m), before_step };
    let mut task = Task::new(&mut cpu, 0, 0, policy);
    assert_eq!(task.run_operation(0, &Operation::Writeback { file: ino }, 0), Outcome::Ok);
    step_starts
}

/// A serial CPU that runs `before_step` on the machine before each step (to record where the
/// step's events begin, or to act as another actor would between two steps).
struct HookedCpu<'m, F: FnMut(&mut Machine)> {
    inner: SerialCpu<'m>,
    before_step: F,
}

impl<F: FnMut(&mut Machine)> racesim_kernel::Cpu for HookedCpu<'_, F> {
    fn step<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R {
        (self.before_step)(self.inner.machine);
        self.inner.step(f)
    }

    fn peek<R>(&mut self, f: impl FnOnce(&Machine) -> R) -> R {
        self.inner.peek(f)
    }

    fn block_until_grantable<R>(
        &mut self,
        request: racesim_kernel::lock::RequestRef,
        grant: impl FnOnce(&mut Machine) -> R,
    ) -> R {
        self.inner.block_until_grantable(request, grant)
    }
}

/// 06bd3c36a733 ("ext4: fix data exposure after a crash"): delalloc writeback files the inode
/// with the running transaction when it allocates; ext4 3.8-4.6 (f3b59291a69d) did not. With
/// durability modelled the allocation is a step before the one that writes the data, so a
/// commit can lock the transaction in between (delalloc_ordered_crash.toml).
#[test]
fn delalloc_writeback_files_the_inode_in_a_step_before_the_io_as_the_policy_says() {
    for files_inode in [false, true] {
        let mut policy = policy("legacy");
        policy.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
        policy.delalloc_files_inode = files_inode;
        let mut kernel = Kernel::new(8);
        let ino = kernel.add_inode(false);
        kernel.inode_mut(ino).i_size = 1;
        kernel.enable_durability();
        let mut m = Machine::new(kernel);
        assert_eq!(run(&mut m, &policy, buffered_write(ino, 0), 1), Outcome::Pages(1));
        assert_eq!(m.kernel.inode(ino).blocks[0], Extent::Delalloc);
        assert!(!m.kernel.filed_uncommitted(ino), "a reservation files nothing");
        let step_starts = writeback_in_steps(&mut m, &policy, ino);
        let step_of = |i: usize| step_starts.iter().rposition(|&s| s <= i).unwrap();
        let mapped = m.log.iter().position(|e| matches!(e.change, Change::BlockMapped { allocated: true, .. }));
        let written = m.log.iter().position(|e| matches!(e.change, Change::DiskWrite { .. }));
        let (mapped, written) = (mapped.expect("writeback allocated"), written.expect("and wrote"));
        assert!(step_of(mapped) < step_of(written), "allocation and IO are separate steps");
        assert_eq!(m.kernel.filed_uncommitted(ino), files_inode, "files_inode = {files_inode}");
        // The commit takes the running transaction's list with it.
        assert_eq!(run(&mut m, &policy, Operation::JournalCommit { file: ino }, 0), Outcome::Ok);
        assert!(!m.kernel.filed_uncommitted(ino));
    }
}

/// A store into a hole when the disk is full: `page_mkwrite` finds no space and the fault ends
/// in SIGBUS (`block_page_mkwrite_return(-ENOSPC)`), reported as ENOSPC; nothing is stored,
/// the page is not dirtied and no PTE is made writable.
#[test]
fn a_store_whose_page_mkwrite_finds_no_space_does_not_land() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(2);
    m.kernel.inode_mut(ino).blocks[1] = Extent::Hole;
    m.kernel.free_blocks.clear();
    assert_eq!(run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 1), Outcome::Enospc);
    let page = m.kernel.inode(ino).cache[1].expect("the read fault cached the page");
    assert!(!m.kernel.page(page).dirty);
    assert_eq!(m.kernel.page(page).content, Token::Zero);
    assert!(pte(&m, ino, 1).is_none_or(|p| !p.writable));
    assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
}

/// A direct write of part of a new block zeroes the rest of it with a step of its own
/// (`dio_zero_block`) and writes its data into the half it covers; on a written block it writes
/// its half only and leaves the rest as it was.
#[test]
fn a_direct_write_of_part_of_a_new_block_zeroes_the_rest() {
    use racesim_kernel::types::{Half, PagePart};
    let policy = policy("legacy");
    let (mut m, ino) = machine(2);
    // Page 0 becomes a hole (its block freed as a punch would), page 1 stays written.
    let pblk = match m.kernel.inode(ino).blocks[0] {
        Extent::Written(p) => p,
        other => panic!("{other:?}"),
    };
    m.kernel.free_block(pblk);
    m.kernel.disk[pblk as usize] = Token::Leftover { pblk };
    m.kernel.inode_mut(ino).blocks[0] = Extent::Hole;
    let head = WriteEnds { first: PagePart::Whole, last: PagePart::Head };
    let write = dio_write(ino, 0, 1, true, head);
    let before = m.log.len();
    assert_eq!(run(&mut m, &policy, write, 3), Outcome::Pages(1));
    let new = m.kernel.inode(ino).blocks[0].pblk().expect("allocated");
    let zero = m.log[before..].iter().position(|e| e.function == "dio_zero_block").expect("the rest zeroed");
    let data = m.log[before..].iter().position(|e| e.function == "dio_bio_end_io").expect("the data written");
    assert!(zero < data, "the zeroing lands before the data");
    assert!(matches!(
        m.log[before + zero].change,
        Change::PartialDiskWrite { token: Token::Zero, part: PagePart::Tail, .. }
    ));
    let written = Half::Data { ino, lblk: 0, write: 3 };
    assert_eq!(m.kernel.disk[new as usize], Token::Halves { head: written, tail: Half::Zero });
    // The second half of the written block 1: no zeroing, the first half keeps its data.
    let tail = WriteEnds { first: PagePart::Tail, last: PagePart::Whole };
    let write = dio_write(ino, 1, 1, true, tail);
    let before = m.log.len();
    run(&mut m, &policy, write, 4);
    assert!(!m.log[before..].iter().any(|e| e.function == "dio_zero_block"));
    let p1 = m.kernel.inode(ino).blocks[1].pblk().unwrap();
    let old = Half::Data { ino, lblk: 1, write: 0 };
    assert_eq!(m.kernel.disk[p1 as usize], Token::Halves { head: old, tail: Half::Data { ino, lblk: 1, write: 4 } });
}

/// Delayed allocation reserves a block out of those no reservation has promised yet
/// (`ext4_da_reserve_space`): a write that finds every free block promised fails with ENOSPC
/// in `write_begin`, a store the same way in `page_mkwrite`, and an allocation that is not
/// delayed (fallocate here) cannot take a promised block either. Writeback always finds the
/// block its reservation promised.
#[test]
fn delalloc_reservations_never_promise_more_blocks_than_are_free() {
    let mut policy = policy("legacy");
    policy.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
    let (mut m, ino) = machine(4);
    for lblk in 0..4 {
        let pblk = m.kernel.inode(ino).blocks[lblk].pblk().unwrap();
        m.kernel.free_block(pblk);
        m.kernel.inode_mut(ino).blocks[lblk] = Extent::Hole;
    }
    m.kernel.free_blocks.truncate(1);
    let write = |page| Operation::Write {
        file: ino,
        page,
        pages: 1,
        buffer: UserBuffer::Anonymous,
        fail_at: None,
        allocation: WriteAllocation::PerPage,
        ends: WriteEnds::default(),
    };
    assert_eq!(run(&mut m, &policy, write(0), 1), Outcome::Pages(1));
    assert_eq!(m.kernel.inode(ino).blocks[0], Extent::Delalloc);
    assert_eq!((m.kernel.free_blocks.len(), m.kernel.unreserved_free_blocks()), (1, 0));
    assert_eq!(run(&mut m, &policy, write(1), 2), Outcome::Enospc, "the one free block is promised");
    assert_eq!(run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 3), Outcome::Enospc);
    let fallocate = Operation::Fallocate { file: ino, page: 3, pages: 1, keep_size: true };
    assert_eq!(run(&mut m, &policy, fallocate, 4), Outcome::Enospc);
    assert_eq!(m.kernel.inode(ino).blocks[1..4], [Extent::Hole; 3]);
    // Writeback converts the reservation into the block it promised.
    assert_eq!(run(&mut m, &policy, Operation::Writeback { file: ino }, 0), Outcome::Ok);
    assert!(matches!(m.kernel.inode(ino).blocks[0], Extent::Written(_)));
    assert_eq!(m.kernel.persistent_content(ino, 0), Token::Data { ino, lblk: 0, write: 1 });
}

/// fallocate(mode 0) past EOF that runs out of blocks part-way: ext4 keeps the size it grew
/// over the blocks it allocated (ext4_alloc_file_blocks updates i_size per mapped chunk, 7.1
/// after its loop to the last chunk's end); XFS sets the size in xfs_setattr_size only after
/// xfs_alloc_file_space succeeded, so the file keeps its size and the blocks past EOF.
#[test]
fn a_fallocate_that_runs_out_of_blocks_keeps_the_size_it_grew_under_ext4_only() {
    // XFS's fallocate is the one that sets the size through xfs_setattr_size
    // (`fallocate_truncate_pagecache`).
    for (name, xfs, size) in [("invalidate_lock", false, 2), ("legacy", false, 2), ("invalidate_lock", true, 1)] {
        let mut policy = policy(name);
        policy.fallocate_truncate_pagecache = xfs;
        let name = format!("{name}, xfs {xfs}");
        let (mut m, ino) = machine(1);
        m.kernel.free_blocks.truncate(1);
        let fallocate = Operation::Fallocate { file: ino, page: 1, pages: 3, keep_size: false };
        assert_eq!(run(&mut m, &policy, fallocate, 1), Outcome::Enospc, "{name}");
        assert!(matches!(m.kernel.inode(ino).blocks[1], Extent::Unwritten(_)), "{name}: block 1 allocated");
        assert_eq!(m.kernel.inode(ino).blocks[2], Extent::Hole, "{name}");
        assert_eq!(m.kernel.inode(ino).i_size, size, "{name}");
    }
    // From an EOF half-way into block 0, with no block free: a range past that block fails at
    // its first ext4_map_blocks, before any ext4_update_inode_size, so EOF stays inside the
    // block; a range over it maps the written block 0 first and grows the size to its end.
    for (first, size) in [(1, (1, true)), (0, (1, false))] {
        let policy = policy("invalidate_lock");
        let (mut m, ino) = truncated_to_half_a_block(&policy, 1, 1);
        m.kernel.free_blocks.clear();
        let fallocate = Operation::Fallocate { file: ino, page: first, pages: 3 - first, keep_size: false };
        assert_eq!(run(&mut m, &policy, fallocate, 2), Outcome::Enospc, "from block {first}");
        let inode = m.kernel.inode(ino);
        assert_eq!((inode.i_size, inode.eof_half), size, "from block {first}");
    }
}

/// A direct write into holes inside EOF allocates unwritten extents and converts them at
/// completion. One that runs out of blocks part-way (g1 of the December 2026 audit) writes the
/// blocks it mapped, converts none of them and returns ENOSPC (`dio_complete` and
/// `iomap_dio_complete` return the error, not a short count): the block it did write reads as
/// zeroes, never as its leftovers.
#[test]
fn a_direct_write_that_runs_out_of_blocks_writes_what_it_mapped_and_converts_nothing() {
    let policy = policy("legacy");
    let (mut m, ino) = machine(3);
    let mut freed = Vec::new();
    for lblk in 1..3 {
        let pblk = m.kernel.inode(ino).blocks[lblk].pblk().unwrap();
        m.kernel.free_block(pblk);
        m.kernel.disk[pblk as usize] = Token::Leftover { pblk };
        m.kernel.inode_mut(ino).blocks[lblk] = Extent::Hole;
        freed.push(pblk);
    }
    let write = |page, pages| dio_write(ino, page, pages, true, WriteEnds::default());
    // Room for one block only.
    m.kernel.free_blocks.retain(|p| freed.contains(p));
    m.kernel.free_blocks.truncate(1);
    assert_eq!(run(&mut m, &policy, write(1, 2), 5), Outcome::Enospc);
    let pblk = match m.kernel.inode(ino).blocks[1] {
        Extent::Unwritten(p) => p,
        other => panic!("a:1 should stay unwritten, is {other:?}"),
    };
    assert_eq!(m.kernel.disk[pblk as usize], Token::Data { ino, lblk: 1, write: 5 }, "the mapped block was written");
    assert_eq!(m.kernel.inode(ino).blocks[2], Extent::Hole);
    assert_eq!(m.kernel.persistent_content(ino, 1), Token::Zero, "unwritten reads as zeroes");
    let submitted = m.log.iter().find_map(|e| match e.change {
        Change::BioSubmitted { range, .. } => Some(range),
        _ => None,
    });
    assert_eq!(submitted, Some(PageRange::new(1, 2)), "the bio covers the mapped block only");
    // With a block free, the same write succeeds and converts what it wrote.
    let pblk2 = freed.iter().copied().find(|&p| p != pblk).unwrap();
    m.kernel.free_blocks.push(pblk2);
    assert_eq!(run(&mut m, &policy, write(2, 1), 6), Outcome::Pages(1));
    assert_eq!(m.kernel.inode(ino).blocks[2], Extent::Written(pblk2));
    assert_eq!(m.kernel.persistent_content(ino, 2), Token::Data { ino, lblk: 2, write: 6 });
}

/// One file of `pages` written pages (blocks of a page) with durability modelled, as a
/// scenario that commits or crashes has it.
fn durable_machine(pages: u32) -> (Machine, Ino) {
    let mut kernel = Kernel::new(8);
    let ino = kernel.add_inode(false);
    kernel.inode_mut(ino).i_size = pages;
    for lblk in 0..pages {
        let pblk = kernel.alloc_block(ino, lblk).unwrap();
        kernel.disk[pblk as usize] = Token::Data { ino, lblk, write: 0 };
        kernel.inode_mut(ino).blocks[lblk as usize] = Extent::Written(pblk);
    }
    kernel.enable_durability();
    (Machine::new(kernel), ino)
}

/// A direct write of `pages` pages of `file` from `page`, from an anonymous buffer.
fn dio_write(file: Ino, page: u32, pages: u32, asynchronous: bool, ends: WriteEnds) -> Operation {
    Operation::DioWrite { file, page, pages, buffer: UserBuffer::Anonymous, asynchronous, ends }
}

fn buffered_write(file: Ino, page: u32) -> Operation {
    anonymous_write(file, page, 1, None)
}

/// A write(2) of `pages` pages (blocks, on a file of smaller blocks) of `file` from `page`, from
/// an anonymous buffer whose copy fails at `fail_at` (relative to the write).
fn anonymous_write(file: Ino, page: u32, pages: u32, fail_at: Option<u32>) -> Operation {
    Operation::Write {
        file,
        page,
        pages,
        buffer: UserBuffer::Anonymous,
        fail_at,
        allocation: WriteAllocation::PerPage,
        ends: WriteEnds::default(),
    }
}

/// ext4_writepages raises i_disksize (mpage_map_and_submit_extent) inside the handle that
/// mapped the blocks, and submits the bio only after ext4_journal_stop: the size update comes
/// before the page's IO and end_page_writeback, so an fsync that waited for the writeback finds
/// the size raised (writeback_fsync_disksize_crash.toml). With blocks smaller than a page too,
/// the page's delayed buffers are allocated, the size raised and the buffers written in
/// separate steps (a commit can fall between the allocation and the IO, 06bd3c36a733).
#[test]
fn delalloc_writeback_raises_i_disksize_before_the_writeback_ends() {
    let mut policy = policy("invalidate_lock");
    policy.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
    for blocks_per_page in [1, 4] {
        let (mut m, ino) = durable_machine(0);
        m.kernel.inode_mut(ino).blocks_per_page = blocks_per_page;
        assert_eq!(run(&mut m, &policy, buffered_write(ino, 0), 1), Outcome::Pages(1));
        assert_eq!(m.kernel.i_disksize(ino), 0, "a reservation leaves i_disksize to writeback");
        let step_starts = writeback_in_steps(&mut m, &policy, ino);
        let step_of = |i: usize| step_starts.iter().rposition(|&s| s <= i).unwrap();
        let raised = m.log.iter().position(
            |e| matches!(e.change, Change::DiskSizeSet { disksize, .. } if disksize == m.kernel.inode(ino).i_size),
        );
        let written = m.log.iter().rposition(|e| matches!(e.change, Change::DiskWrite { .. }));
        let ended = m.log.iter().position(|e| e.function == "end_page_writeback");
        let (raised, written, ended) =
            (raised.expect("i_disksize raised"), written.expect("IO"), ended.expect("unlock"));
        assert!(raised < ended && written < ended, "{blocks_per_page} block(s) a page: before the end of writeback");
        let allocated = m.log.iter().position(|e| matches!(e.change, Change::BlockMapped { allocated: true, .. }));
        let allocated = allocated.expect("writeback allocates the reservation");
        assert!(step_of(allocated) < step_of(raised), "{blocks_per_page}: the allocation is a step before the update");
        assert!(step_of(raised) < step_of(written), "{blocks_per_page}: the size update is a step before the IO");
        assert_eq!(m.kernel.i_disksize(ino), m.kernel.inode(ino).i_size);
    }
}

/// The data=ordered commit's write-out of a page of smaller blocks goes through ext4_writepage,
/// which cannot allocate: it writes the buffer whose block the transaction allocated and leaves
/// a delayed buffer of the same page to writeback, redirtying the page ("We cannot do block
/// allocation or other extent handling in this function ... we must write allocated buffers to
/// achieve data=ordered mode guarantees").
#[test]
fn a_commit_writes_a_pages_allocated_buffers_and_leaves_its_delayed_ones() {
    let mut policy = policy("invalidate_lock");
    policy.write_alloc = racesim_kernel::policy::AllocKind::Delalloc;
    let (mut m, ino) = durable_machine(0);
    m.kernel.inode_mut(ino).blocks_per_page = 4;
    assert_eq!(run(&mut m, &policy, anonymous_write(ino, 0, 1, None), 1), Outcome::Pages(1));
    assert_eq!(run(&mut m, &policy, Operation::Writeback { file: ino }, 0), Outcome::Ok);
    let block0 = m.kernel.inode(ino).blocks[0].pblk().expect("writeback allocated block 0");
    // Block 0 written again (its buffer mapped), block 1 reserved: both dirty in one page.
    assert_eq!(run(&mut m, &policy, anonymous_write(ino, 0, 2, None), 2), Outcome::Pages(2));
    assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Delalloc);
    let logged = m.log.len();
    assert_eq!(run(&mut m, &policy, Operation::JournalCommit { file: ino }, 0), Outcome::Ok);
    assert_eq!(m.kernel.disk[block0 as usize], Token::Data { ino, lblk: 0, write: 2 }, "block 0 written");
    assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Delalloc, "the commit allocates nothing");
    let page = m.kernel.inode(ino).cache[0].expect("cached");
    assert!(m.kernel.page(page).dirty, "the page stays dirty for writeback to map block 1");
    assert!(m.log[logged..].iter().any(|e| e.function == "redirty_page_for_writepage"));
    let committed = &m.kernel.durable.inodes[ino as usize].committed;
    assert_eq!(committed.blocks[0], Extent::Written(block0));
    assert_eq!(committed.blocks[1], Extent::Hole, "a reservation is not on disk");
}

/// ext4_setattr shrinking with data=ordered: ext4_begin_ordered_truncate ->
/// jbd2_journal_begin_ordered_truncate writes out the pages past the new size if the inode
/// belongs to the transaction being committed, before truncate_pagecache discards them; not
/// otherwise.
#[test]
fn a_truncate_writes_out_past_the_new_size_when_the_inode_is_being_committed() {
    let policy = policy("legacy");
    for committing in [false, true] {
        let (mut m, ino) = durable_machine(1);
        assert_eq!(run(&mut m, &policy, buffered_write(ino, 1), 1), Outcome::Pages(1));
        let pblk = m.kernel.inode(ino).blocks[1].pblk().expect("write_begin allocated");
        assert!(m.kernel.filed_uncommitted(ino), "the write filed the inode");
        if committing {
            // A commit has locked the running transaction and not written its record yet.
            m.kernel.durable.locked_tid += 1;
        }
        assert_eq!(run(&mut m, &policy, Operation::Truncate { file: ino, size: 1, half: false }, 0), Outcome::Ok);
        let checked =
            m.log.iter().any(|e| matches!(e.change, Change::OrderedTruncate { committing: c, .. } if c == committing));
        assert!(checked, "jbd2_journal_begin_ordered_truncate looked (committing = {committing})");
        let written = m.kernel.disk[pblk as usize] == Token::Data { ino, lblk: 1, write: 1 };
        assert_eq!(written, committing, "the page past the new size was written out: {committing}");
        assert_eq!(m.kernel.inode(ino).cache[1], None);
    }
}

/// With durability modelled, punch hole writes out its dirty range before evicting it
/// (ext4_punch_hole: filemap_write_and_wait_range before inode_lock), and zero range does so
/// only where the policy says (ext4 3.15-4.4, XFS; not ext4 4.5+).
#[test]
fn punch_and_zero_range_write_out_their_dirty_range_as_the_policy_says() {
    // (policy, zero range rather than punch, writes out)
    let cases = [("legacy", false, true), ("mmaplock", false, true), ("legacy", true, true), ("mmaplock", true, false)];
    for (name, zero, flushes) in cases {
        let policy = policy(name);
        let (mut m, ino) = durable_machine(2);
        m.kernel.inode_mut(ino).blocks[1] = Extent::Hole;
        assert_eq!(run(&mut m, &policy, buffered_write(ino, 1), 1), Outcome::Pages(1));
        let pblk = m.kernel.inode(ino).blocks[1].pblk().expect("write_begin allocated");
        let op = if zero {
            Operation::ZeroRange { file: ino, page: 1, pages: 1 }
        } else {
            Operation::PunchHole { file: ino, page: 1, pages: 1 }
        };
        assert_eq!(run(&mut m, &policy, op, 0), Outcome::Ok);
        let written = m.kernel.disk[pblk as usize] == Token::Data { ino, lblk: 1, write: 1 };
        assert_eq!(written, flushes, "{name} {op:?}");
        let discarded = m.log.iter().any(|e| matches!(e.change, Change::PageDeleted { dirty_discarded: true, .. }));
        assert_eq!(discarded, !flushes, "{name} {op:?}: evicted dirty");
    }
}

/// ext4_should_retry_alloc: on a full disk whose only free block is one a truncate freed in the
/// running transaction, write(2) and fallocate force the commit that makes it reusable and
/// allocate it; a policy without the retry (XFS in the model) returns ENOSPC.
#[test]
fn an_allocation_on_a_full_disk_forces_the_commit_of_freed_blocks_and_retries() {
    for (retry, operation) in [(true, "write"), (true, "fallocate"), (false, "write"), (false, "fallocate")] {
        let mut policy = policy("legacy");
        policy.alloc_retry_commit = retry;
        let (mut m, a) = durable_machine(2);
        m.kernel.free_blocks.clear();
        let freed = m.kernel.inode(a).blocks[1].pblk().unwrap();
        let b = m.kernel.add_inode(false);
        m.kernel.enable_durability();
        assert_eq!(run(&mut m, &policy, Operation::Truncate { file: a, size: 1, half: false }, 1), Outcome::Ok);
        assert_eq!(m.kernel.durable.freed, vec![freed], "not reusable before the commit");
        m.log.clear();
        let op = match operation {
            "write" => buffered_write(b, 0),
            _ => Operation::Fallocate { file: b, page: 0, pages: 1, keep_size: false },
        };
        let outcome = run(&mut m, &policy, op, 2);
        let commits = m.log.iter().filter(|e| matches!(e.change, Change::TransactionCommitted)).count();
        if retry {
            let expected = if operation == "write" { Outcome::Pages(1) } else { Outcome::Ok };
            assert_eq!(outcome, expected, "{operation}");
            assert_eq!(m.kernel.inode(b).blocks[0].pblk(), Some(freed), "{operation} took the freed block");
            assert_eq!(commits, 1, "{operation}: one forced commit");
            assert!(m.log.iter().any(|e| matches!(e.change, Change::AllocRetry { retry: true })));
        } else {
            assert_eq!(outcome, Outcome::Enospc, "{operation}");
            assert_eq!(commits, 0);
        }
    }
}

/// Direct IO and DAX retry the same way where ext4 does: with the policy's `alloc_retry_dio_dax`
/// (`invalidate_lock`: ext4_iomap_alloc for a direct write, ext4_iomap_begin for a DAX write(2),
/// ext4_dax_huge_fault for a DAX write fault) every one of them; without it (the 4.x built-ins)
/// only a write past EOF, which 4.x sent through ext4_ind_direct_IO, and never a DAX fault
/// (ext4_ext_direct_IO's get_block and ext4_dax_fault did not retry). A direct write of two pages
/// whose second finds no block keeps the first it mapped.
#[test]
fn direct_io_and_dax_allocations_retry_where_the_policy_says() {
    for (name, operation, past_eof) in [
        ("invalidate_lock", "dio_write", false),
        ("invalidate_lock", "dax_write", false),
        ("invalidate_lock", "dax_store", false),
        ("legacy", "dio_write", false),
        ("legacy", "dax_write", false),
        ("legacy", "dax_store", false),
        ("mmaplock", "dio_write", false),
        ("legacy", "dio_write", true),
        ("legacy", "dax_write", true),
        ("mmaplock", "dax_write", true),
    ] {
        let policy = policy(name);
        let retry = policy.alloc_retry_dio_dax || past_eof;
        assert!(policy.alloc_retry_commit, "{name}");
        let (mut m, a) = durable_machine(2);
        let b = m.kernel.add_inode(operation != "dio_write");
        // Past EOF: the write's last page (1) is past a size of 1 page.
        m.kernel.inode_mut(b).i_size = if past_eof { 1 } else { 2 };
        let mm = m.kernel.add_mm();
        m.kernel.mms[mm as usize].vmas.push(Some(Vma::new(b, 0, 2)));
        // The disk's blocks: a's two and, for the direct write, one more for b's first page.
        m.kernel.free_blocks.clear();
        let spare = 6;
        if operation == "dio_write" {
            m.kernel.free_blocks.push(spare);
        }
        let freed = m.kernel.inode(a).blocks[1].pblk().unwrap();
        m.kernel.enable_durability();
        assert_eq!(run(&mut m, &policy, Operation::Truncate { file: a, size: 1, half: false }, 1), Outcome::Ok);
        m.log.clear();
        let (op, page) = match operation {
            "dio_write" => (dio_write(b, 0, 2, false, WriteEnds::default()), 1),
            "dax_write" => (anonymous_write(b, 1, 1, None), 1),
            _ => (Operation::Store { file: b, page: 1 }, 1),
        };
        let outcome = {
            let mut cpu = SerialCpu::new(&mut m);
            let mut task = Task::new(&mut cpu, 0, mm, &policy);
            let outcome = task.run_operation(0, &op, 2);
            assert!(!cpu.stuck, "a serial run never waits on a lock");
            outcome
        };
        let commits = m.log.iter().filter(|e| matches!(e.change, Change::TransactionCommitted)).count();
        let label = format!("{name} {operation} past EOF: {past_eof}");
        if retry {
            let expected = match operation {
                "dio_write" => Outcome::Pages(2),
                "dax_write" => Outcome::Pages(1),
                _ => Outcome::Ok,
            };
            assert_eq!(outcome, expected, "{label}");
            assert_eq!(m.kernel.inode(b).blocks[page as usize].pblk(), Some(freed), "{label} took the freed block");
            assert_eq!(commits, 1, "{label}: one forced commit");
        } else {
            assert_eq!(outcome, Outcome::Enospc, "{label}");
            assert_eq!(commits, 0, "{label}: no commit");
            assert!(!m.log.iter().any(|e| matches!(e.change, Change::AllocRetry { .. })), "{label}: not asked");
        }
        if operation == "dio_write" {
            assert_eq!(m.kernel.inode(b).blocks[0].pblk(), Some(spare), "{label}: the first block stays mapped");
        }
    }
}

/// A direct write through the end of the block an EOF lies half-way into ends past EOF in bytes
/// ("end > i_size_read(inode)"), even where that block is its last: it extends the file, and its
/// size update moves EOF to the block's end. One that ends before that block leaves EOF where it
/// is.
#[test]
fn a_direct_write_through_the_block_an_eof_lies_inside_moves_eof_to_its_end() {
    for name in ["legacy", "invalidate_lock"] {
        let policy = policy(name);
        for (page, pages, extends) in [(1, 1, true), (0, 2, true), (0, 1, false)] {
            let (mut m, ino) = machine(2);
            m.kernel.inode_mut(ino).eof_half = true;
            m.kernel.inode_mut(ino).eof_half_reachable = true;
            let outcome = run(&mut m, &policy, dio_write(ino, page, pages, false, WriteEnds::default()), 3);
            assert_eq!(outcome, Outcome::Pages(pages), "{name} [{page}, +{pages})");
            let inode = m.kernel.inode(ino);
            assert_eq!((inode.i_size, inode.eof_half), (2, !extends), "{name} [{page}, +{pages})");
            let grew = m.log.iter().any(|e| matches!(e.change, Change::ISizeSet { i_size: 2, half: false, .. }));
            assert_eq!(grew, extends, "{name} [{page}, +{pages}): the size update");
        }
    }
}

/// ext4_should_retry_alloc also retries when the blocks freed are in a transaction whose commit
/// is under way (jbd2_journal_force_commit_nested waits for it; dbc427ce4028, 4.7): the commit
/// locked the transaction, taking its freed list with it, between the failed allocation and the
/// check. With nothing freed and no commit under way, it does not retry. Here the commit under
/// way is only its tid (it freed nothing), so the write ends in ENOSPC either way: this pins
/// the decision, which the exhaustive search reaches with a concurrent commit
/// (`retry_commit_in_flight` in racesim-explore's tests/exhaustive.rs).
#[test]
fn the_allocation_retry_waits_for_a_commit_under_way() {
    let policy = policy("legacy");
    for in_flight in [false, true] {
        let (mut m, _) = durable_machine(1);
        m.kernel.free_blocks.clear();
        let b = m.kernel.add_inode(false);
        m.kernel.enable_durability();
        if in_flight {
            // A commit has locked the running transaction and not written its record yet.
            m.kernel.durable.locked_tid += 1;
        }
        assert_eq!(run(&mut m, &policy, buffered_write(b, 0), 1), Outcome::Enospc);
        let decisions: Vec<bool> = m
            .log
            .iter()
            .filter_map(|e| match e.change {
                Change::AllocRetry { retry } => Some(retry),
                _ => None,
            })
            .collect();
        // The forced commit (the model's, after waiting for the one under way) frees nothing,
        // and no commit is under way after it: no second retry.
        let expected = if in_flight { vec![true, false] } else { vec![false] };
        assert_eq!(decisions, expected, "commit under way: {in_flight}");
    }
}

/// An EOF inside a block (docs/model.md, "An EOF inside a block"): truncate to 1.5 pages zeroes
/// the tail of page 1 and dirties it (truncate_inode_pages_range's partial page, then
/// ext4_block_truncate_page, which reads the block in when the page is not cached); writeback of
/// the straddling page zeroes what a store put past EOF before the IO; truncate up leaves the
/// tail as the page holds it under ext4 before Foster's patch, and zeroes it where the policy
/// says so (XFS's iomap_zero_range, Foster's ext4_block_truncate_page(oldsize)).
#[test]
fn an_eof_inside_a_block_is_zeroed_past_by_truncate_writeback_and_the_policy_s_truncate_up() {
    use racesim_kernel::policy::TruncateUpZero;
    use racesim_kernel::types::{Half, PagePart};
    let data = |lblk, write| Token::Data { ino: 0, lblk, write };
    let store_then_tail = |write| Token::Data { ino: 0, lblk: 1, write }.overlay(PagePart::Tail, Token::Zero);
    for cached in [false, true] {
        let policy = policy("invalidate_lock");
        let (mut m, ino) = machine(2);
        m.kernel.inode_mut(ino).eof_half_reachable = true;
        if cached {
            run(&mut m, &policy, Operation::Load { file: ino, page: 1 }, 1);
        }
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: true }, 2);
        let inode = m.kernel.inode(ino);
        assert_eq!((inode.i_size, inode.eof_half), (2, true));
        let page = inode.cache[1].expect("ext4_block_truncate_page reads the block in");
        let p = m.kernel.page(page);
        assert!(p.dirty && p.uptodate, "cached {cached}");
        assert_eq!(p.content, Token::Halves { head: Half::Data { ino, lblk: 1, write: 0 }, tail: Half::Zero });
        assert!(m.log.iter().any(
            |e| e.function == "ext4_block_truncate_page" && matches!(e.change, Change::TailZeroed { lblk: 1, .. })
        ));
        // Writeback puts the zeroed tail on disk.
        run(&mut m, &policy, Operation::Writeback { file: ino }, 3);
        assert_eq!(m.kernel.persistent_content(ino, 1), data(1, 0).overlay(PagePart::Tail, Token::Zero));
    }
    // A store past EOF in the straddling page, then writeback: wiped in the page itself.
    let policy = policy("legacy");
    let (mut m, ino) = machine(2);
    m.kernel.inode_mut(ino).eof_half_reachable = true;
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: true }, 1);
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 2);
    let page = m.kernel.inode(ino).cache[1].unwrap();
    assert_eq!(m.kernel.page(page).content, data(1, 2));
    run(&mut m, &policy, Operation::Writeback { file: ino }, 3);
    assert_eq!(m.kernel.page(page).content, store_then_tail(2));
    assert_eq!(m.kernel.persistent_content(ino, 1), store_then_tail(2));
    // Truncate up after another store: ext4 before Foster's patch leaves the tail; the zeroing
    // policies clear it.
    for (zero, expected) in [
        (TruncateUpZero::None, data(1, 4)),
        (TruncateUpZero::Ext4BlockTruncatePage, store_then_tail(4)),
        (TruncateUpZero::Ext4BlockZeroEof, store_then_tail(4)),
        (TruncateUpZero::XfsZeroEof, store_then_tail(4)),
        (TruncateUpZero::IomapZeroRange, store_then_tail(4)),
    ] {
        let mut policy = policy.clone();
        policy.truncate_up_zero_eof = zero;
        let mut m = m.clone();
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 4);
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 3, half: false }, 5);
        let inode = m.kernel.inode(ino);
        assert_eq!((inode.i_size, inode.eof_half), (3, false));
        assert_eq!(m.kernel.page(page).content, expected, "{}", zero.name());
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
    }
}

/// A direct write whose invalidation meets a page dirtied since its flush does what the
/// policy's `dio_invalidate_busy` says: falls back to a buffered write (ext4; iomap since 5.10),
/// returns 0 having written nothing (XFS 4.1-4.9), or writes directly and leaves the dirty page
/// cached (iomap before 5.10).
#[test]
fn a_direct_write_meeting_a_page_dirtied_since_its_flush_does_what_the_policy_says() {
    use racesim_kernel::policy::DioInvalidateBusy;
    let written = Token::Data { ino: 0, lblk: 0, write: 2 };
    for busy in [DioInvalidateBusy::BufferedFallback, DioInvalidateBusy::ShortWrite, DioInvalidateBusy::Warn] {
        let mut policy = policy("legacy");
        policy.dio_invalidate_busy = busy;
        let (mut m, ino) = machine(1);
        assert_eq!(run(&mut m, &policy, Operation::Load { file: ino, page: 0 }, 1), Outcome::Ok);
        let page = m.kernel.inode(ino).cache[0].expect("the load cached the page");
        let pblk = m.kernel.inode(ino).blocks[0].pblk().unwrap();
        m.log.clear();
        let write = dio_write(ino, 0, 1, false, WriteEnds::default());
        // A store dirties the page (through a writable PTE) right after the step in which the
        // flush looked its range up: between the direct write's flush and its invalidation.
        let mut stored = false;
        let before_step = |m: &mut Machine| {
            if !stored && m.log.iter().any(|e| e.function == "filemap_write_and_wait_range") {
                stored = true;
                m.kernel.page_mut(page).dirty = true;
            }
        };
        let mut cpu = HookedCpu { inner: SerialCpu::new(&mut m), before_step };
        let outcome = Task::new(&mut cpu, 0, 0, &policy).run_operation(0, &write, 2);
        assert!(stored);
        assert!(m.log.iter().any(|e| matches!(e.change, Change::InvalidateBusy { .. })), "{busy:?}: -EBUSY");
        let on_disk = m.kernel.disk[pblk as usize];
        let copied = m.log.iter().any(|e| matches!(e.change, Change::PageCopied { .. }));
        let still_dirty = m.kernel.inode(ino).cache[0].is_some_and(|p| m.kernel.page(p).dirty);
        match busy {
            DioInvalidateBusy::BufferedFallback => {
                assert_eq!(outcome, Outcome::Pages(1));
                assert!(copied, "the buffered write copied the page");
                assert_eq!(on_disk, written, "and flushed it before returning");
            }
            DioInvalidateBusy::ShortWrite => {
                assert_eq!(outcome, Outcome::Pages(0));
                assert!(!copied);
                assert_eq!(on_disk, Token::Data { ino, lblk: 0, write: 0 }, "nothing written");
                assert!(still_dirty);
            }
            DioInvalidateBusy::Warn => {
                assert_eq!(outcome, Outcome::Pages(1));
                assert!(!copied);
                assert_eq!(on_disk, written, "written directly");
                assert!(still_dirty, "the dirty page stays cached over it");
            }
        }
    }
}

/// A direct read into a mapped page dirties it after the DMA (fs/direct-io.c) and, under iomap,
/// before submitting its bio too (`bio_set_pages_dirty`), as the policy's `dio_read_dirty` says;
/// the completion's `bio_check_pages_dirty` leaves a page still dirty as it is. The page is
/// cleaned (as writeback would) after the pin, so that only the read dirties it.
#[test]
fn a_direct_read_dirties_its_user_pages_when_the_policy_says() {
    use racesim_kernel::policy::DioReadDirty;
    for dirty in [DioReadDirty::AfterIo, DioReadDirty::BeforeSubmit] {
        let mut policy = policy("invalidate_lock");
        policy.dio_read_dirty = dirty;
        let (mut m, dst) = machine(1);
        let src = m.kernel.add_inode(false);
        m.kernel.inode_mut(src).i_size = 1;
        let pblk = m.kernel.alloc_block(src, 0).unwrap();
        m.kernel.inode_mut(src).blocks[0] = Extent::Written(pblk);
        let read =
            Operation::DioRead { file: src, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: dst, page: 0 } };
        // Writeback cleans the page right after get_user_pages pinned it (page_mkwrite dirtied it).
        let mut cleaned = false;
        let before_step = |m: &mut Machine| {
            if !cleaned && m.log.iter().any(|e| e.function == "try_grab_page") {
                cleaned = true;
                let page = m.kernel.inode(dst).cache[0].unwrap();
                m.kernel.page_mut(page).dirty = false;
            }
        };
        let mut cpu = HookedCpu { inner: SerialCpu::new(&mut m), before_step };
        assert_eq!(Task::new(&mut cpu, 0, 0, &policy).run_operation(0, &read, 2), Outcome::Pages(1));
        assert!(cleaned);
        let position = |pred: &dyn Fn(&Event) -> bool| m.log.iter().position(pred);
        let submitted = position(&|e| matches!(e.change, Change::BioSubmitted { .. })).expect("submitted");
        // Not page_mkwrite's set_page_dirty, when get_user_pages faulted the page in for writing.
        let dirtied =
            position(&|e| e.function == "set_page_dirty_lock" && matches!(e.change, Change::PageDirtied { .. }))
                .expect("dirtied");
        let dma = position(&|e| matches!(e.change, Change::DmaIntoPage { .. })).expect("DMA");
        match dirty {
            DioReadDirty::AfterIo => assert!(dirtied > dma, "after the DMA only"),
            DioReadDirty::BeforeSubmit => {
                assert!(dirtied < submitted, "bio_set_pages_dirty before submit_bio");
                assert!(m.log[dma..].iter().any(|e| e.function == "bio_check_pages_dirty"), "still dirty");
            }
        }
        let page = m.kernel.inode(dst).cache[0].unwrap();
        assert!(m.kernel.page(page).dirty);
    }
}

/// A direct write that ends past EOF updates `i_size` after its completion invalidated the range
/// (ext4 up to 5.12), or in its `->end_io` before that invalidation (XFS; ext4 since
/// 5899593f51e6, 5.13), as the policy's `dio_extend_size` says.
#[test]
fn an_extending_direct_write_updates_i_size_where_the_policy_says() {
    use racesim_kernel::policy::DioExtendSize;
    for at in [DioExtendSize::AfterCompletion, DioExtendSize::InEndIo] {
        let mut policy = policy("invalidate_lock");
        policy.dio_extend_size = at;
        let (mut m, ino) = machine(1);
        let write = dio_write(ino, 1, 1, false, WriteEnds::default());
        assert_eq!(run(&mut m, &policy, write, 2), Outcome::Pages(1));
        assert_eq!(m.kernel.inode(ino).i_size, 2);
        let grown = m.log.iter().position(|e| matches!(e.change, Change::ISizeSet { i_size: 2, .. })).unwrap();
        let invalidated = m.log.iter().rposition(|e| e.function == "invalidate_inode_pages2_range").unwrap();
        let bio_done = m.log.iter().rposition(|e| e.function == "dio_bio_end_io").unwrap();
        assert!(bio_done < grown, "{at:?}: after the data");
        match at {
            DioExtendSize::AfterCompletion => assert!(invalidated < grown, "after the completion's invalidation"),
            DioExtendSize::InEndIo => assert!(grown < invalidated, "before the completion's invalidation"),
        }
    }
}

/// Every kernel flushes a direct IO's range before it pins the user buffer (so a direct read
/// into a mapping of its own page never writes back the page its pin dirtied), and Kara's RFC
/// flushes and invalidates again at submission, under the range lock, as the policy's
/// `dio_submit_invalidate` says: the second flush writes back the page the pin dirtied.
#[test]
fn a_direct_io_flushes_before_it_pins_and_again_at_submission_when_the_policy_says() {
    use racesim_kernel::policy::DioSubmitInvalidate;
    for again in [DioSubmitInvalidate::None, DioSubmitInvalidate::FlushAndInvalidate] {
        let mut policy = policy("legacy");
        policy.dio_submit_invalidate = again;
        let (mut m, ino) = machine(1);
        let read =
            Operation::DioRead { file: ino, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: ino, page: 0 } };
        assert_eq!(run(&mut m, &policy, read, 2), Outcome::Pages(1));
        let flushes: Vec<(usize, u32)> = m
            .log
            .iter()
            .enumerate()
            .filter(|(_, e)| e.function == "filemap_write_and_wait_range")
            .filter_map(|(i, e)| match e.change {
                Change::PagesFound { count, .. } => Some((i, count)),
                _ => None,
            })
            .collect();
        let pinned = m.log.iter().position(|e| e.function == "try_grab_page").expect("pinned");
        let submitted = m.log.iter().position(|e| matches!(e.change, Change::BioSubmitted { .. })).unwrap();
        assert!(flushes[0].0 < pinned, "{again:?}: the flush before the pin");
        assert_eq!(flushes[0].1, 0, "{again:?}: nothing cached before the pin faults the page in");
        match again {
            DioSubmitInvalidate::None => assert_eq!(flushes.len(), 1, "once"),
            DioSubmitInvalidate::FlushAndInvalidate => {
                assert_eq!(flushes.len(), 2, "twice");
                assert!(pinned < flushes[1].0 && flushes[1].0 < submitted, "again between the pin and submit_bio");
                assert_eq!(flushes[1].1, 1, "the page the pin dirtied");
            }
        }
    }
}

/// A direct read of a cached page: fs/direct-io.c and iomap since 5.9 only flush the range, XFS
/// up to 4.9 and iomap 4.10-5.8 invalidate it too, before the IO, as the policy's
/// `dio_read_invalidate` says; a page dirtied again cannot be dropped, and the read goes on.
#[test]
fn a_direct_read_invalidates_its_range_as_the_policy_says() {
    use racesim_kernel::policy::DioReadInvalidate;
    for invalidate in [DioReadInvalidate::None, DioReadInvalidate::BeforeIo] {
        let mut policy = policy("legacy");
        policy.dio_read_invalidate = invalidate;
        let (mut m, ino) = machine(2);
        let buffered = Operation::Read { file: ino, page: 0, pages: 2, buffer: UserBuffer::Anonymous };
        assert_eq!(run(&mut m, &policy, buffered, 1), Outcome::Pages(2));
        let direct = Operation::DioRead { file: ino, page: 1, pages: 1, buffer: UserBuffer::Anonymous };
        assert_eq!(run(&mut m, &policy, direct, 2), Outcome::Pages(1));
        let cached: Vec<bool> = m.kernel.inode(ino).cache[..2].iter().map(Option::is_some).collect();
        let removed = m.log.iter().any(|e| e.function == "invalidate_complete_page2");
        match invalidate {
            DioReadInvalidate::None => assert_eq!((cached, removed), (vec![true, true], false), "only flushed"),
            DioReadInvalidate::BeforeIo => {
                assert_eq!((cached, removed), (vec![true, false], true), "page 1 invalidated, page 0 kept")
            }
        }
    }
}

/// A direct read of a hole into a mapping of its own page: fs/direct-io.c pins the buffer first,
/// and the pin's page_mkwrite allocates the block the read then maps and reads; iomap maps the
/// hole first and lands zeroes, as the policy's `dio_pin_order` says.
#[test]
fn a_direct_read_maps_before_or_after_it_pins_as_the_policy_says() {
    use racesim_kernel::policy::DioPinOrder;
    for order in [DioPinOrder::PinThenMap, DioPinOrder::MapThenPin] {
        let mut policy = policy("legacy");
        policy.dio_pin_order = order;
        let (mut m, ino) = machine(1);
        let pblk = m.kernel.inode(ino).blocks[0].pblk().unwrap();
        m.kernel.free_block(pblk);
        m.kernel.inode_mut(ino).blocks[0] = Extent::Hole;
        let read =
            Operation::DioRead { file: ino, page: 0, pages: 1, buffer: UserBuffer::Mapped { file: ino, page: 0 } };
        assert_eq!(run(&mut m, &policy, read, 2), Outcome::Pages(1));
        let mapped = m.log.iter().position(|e| e.function == "ext4_map_blocks").expect("mapped");
        let pinned = m.log.iter().position(|e| e.function == "try_grab_page").expect("pinned");
        let saw_hole = m.log.iter().any(|e| {
            e.function == "ext4_map_blocks" && matches!(e.change, Change::BlockMapped { extent: Extent::Hole, .. })
        });
        match order {
            DioPinOrder::PinThenMap => assert!(pinned < mapped && !saw_hole, "maps the block the pin allocated"),
            DioPinOrder::MapThenPin => assert!(mapped < pinned && saw_hole, "maps the hole"),
        }
    }
}

/// Zero range inside a page of 1 KiB blocks (ext4 4.5+, no write-out first) keeps the page
/// cached and its PTE writable; a store through it lands in a buffer the zeroing discarded, and
/// writeback skips it although the block map now has an unwritten block there (Zhang Yi's
/// reproducer for 17207d0bb209).
#[test]
fn writeback_skips_a_buffer_zero_range_discarded_under_a_writable_pte() {
    let policy = policy("mmaplock");
    let (mut m, ino) = machine_of_1k_blocks();
    run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 1);
    run(&mut m, &policy, Operation::ZeroRange { file: ino, page: 2, pages: 2 }, 2);
    assert!(pte(&m, ino, 0).unwrap().writable);
    assert!(matches!(m.kernel.inode(ino).blocks[2], Extent::Unwritten(_)));
    run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 3);
    run(&mut m, &policy, Operation::Writeback { file: ino }, 4);
    assert!(m.log.iter().all(|e| !matches!(e.change, Change::DiskWrite { lblk: 2, .. })), "block 2 not written");
    assert!(matches!(m.kernel.inode(ino).blocks[2], Extent::Unwritten(_)), "still reads as zeroes");
}

/// An EOF inside a block of a file of 1 KiB blocks (docs/model.md, "An EOF inside a block"):
/// truncate to 1.5 blocks zeroes block 1's tail and the blocks after it in the page and
/// discards their buffers (truncate_inode_pages_range, block_invalidatepage), and
/// ext4_block_truncate_page zeroes the tail again and dirties the page; read(2) of block 1 is
/// short; writeback zeroes block 1's tail in the page before the IO; and truncate up zeroes it,
/// or not, as the policy says, including pagecache_isize_extended's early return where the old
/// EOF block ends the page ("!(rounded_from & (PAGE_SIZE - 1))").
#[test]
fn an_eof_inside_a_sub_page_block_is_zeroed_past_as_linux_does() {
    use racesim_kernel::event::ReadPath;
    use racesim_kernel::policy::{IsizeExtended, TruncateUpZero};
    use racesim_kernel::types::PagePart;
    let data = |lblk, write| Token::Data { ino: 0, lblk, write };
    let head_only = |lblk, write| data(lblk, write).overlay(PagePart::Tail, Token::Zero);
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    m.kernel.inode_mut(ino).eof_half_reachable = true;
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 1);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: true }, 2);
    let inode = m.kernel.inode(ino);
    assert_eq!((inode.i_size, inode.eof_half), (2, true));
    assert_eq!((inode.blocks[1].pblk().is_some(), inode.blocks[2]), (true, Extent::Hole));
    let p = m.kernel.page(page);
    assert!(p.attached && p.dirty);
    assert_eq!(p.bh[1].content, head_only(1, 1));
    assert!(p.bh[2..].iter().all(|b| b.content == Token::Zero && b.mapped.is_none()));
    assert!(m.log.iter().any(
        |e| e.function == "ext4_block_truncate_page" && matches!(e.change, Change::TailZeroed { lblk: 1, .. })
    ));
    // A store through the still-writable PTE writes all of block 1 in the page; read(2) stops at
    // EOF, half-way into it.
    run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 3);
    assert_eq!(m.kernel.page(page).bh[1].content, data(1, 3));
    m.log.clear();
    run(&mut m, &policy, Operation::Read { file: ino, page: 1, pages: 1, buffer: UserBuffer::Anonymous }, 4);
    let seen: Vec<Token> = m
        .log
        .iter()
        .filter_map(|e| match e.change {
            Change::UserRead { token, path: ReadPath::ReadSyscall, .. } => Some(token),
            _ => None,
        })
        .collect();
    assert_eq!(seen, [head_only(1, 3)]);
    // Writeback wipes the store's bytes past EOF in the page itself, before the IO.
    run(&mut m, &policy, Operation::Writeback { file: ino }, 5);
    assert_eq!(m.kernel.page(page).bh[1].content, head_only(1, 3));
    assert_eq!(m.kernel.persistent_content(ino, 1), head_only(1, 3));
    // Another store past EOF, then truncate up to 4 KiB (the page's end) or 8 KiB.
    for (extended, zero_eof, exposed) in [
        (IsizeExtended::WriteProtect, TruncateUpZero::None, true),
        (IsizeExtended::WriteProtectAndZero, TruncateUpZero::None, false),
        (IsizeExtended::WriteProtect, TruncateUpZero::Ext4BlockTruncatePage, false),
    ] {
        let mut policy = policy.clone();
        policy.pagecache_isize_extended = extended;
        policy.truncate_up_zero_eof = zero_eof;
        let mut m = m.clone();
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 6);
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 4, half: false }, 7);
        let expected = if exposed { data(1, 6) } else { head_only(1, 6) };
        assert_eq!(m.kernel.page(page).bh[1].content, expected, "{extended:?} {zero_eof:?}");
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
    }
    // EOF half-way into block 3, the last of the page: pagecache_isize_extended returns at once
    // (the rounded old EOF is on a page boundary), so only the zeroing of the old EOF block
    // (Foster's ext4_block_truncate_page(oldsize)) clears the tail.
    for (extended, zero_eof, exposed) in [
        (IsizeExtended::WriteProtectAndZero, TruncateUpZero::None, true),
        (IsizeExtended::WriteProtectAndZero, TruncateUpZero::Ext4BlockTruncatePage, false),
    ] {
        let mut policy = policy.clone();
        policy.pagecache_isize_extended = extended;
        policy.truncate_up_zero_eof = zero_eof;
        let (mut m, ino) = machine_of_1k_blocks();
        m.kernel.inode_mut(ino).eof_half_reachable = true;
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 4, half: true }, 1);
        run(&mut m, &policy, Operation::Store { file: ino, page: 3 }, 2);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        assert_eq!(m.kernel.page(page).bh[3].content, data(3, 2));
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 8, half: false }, 3);
        let expected = if exposed { data(3, 2) } else { head_only(3, 2) };
        assert_eq!(m.kernel.page(page).bh[3].content, expected, "{extended:?} {zero_eof:?}");
    }
}

/// truncate(2) up to a size inside a page runs truncate_pagecache(inode, newsize) after
/// pagecache_isize_extended, as it does down (ext4_setattr; XFS's truncate_setsize): the page
/// that holds the new EOF is zeroed from it to its end and its buffers there are discarded, so a
/// store that landed past EOF there cannot show through a later growth.
#[test]
fn truncate_up_to_inside_a_page_zeroes_the_page_past_the_new_eof() {
    let policy = policy("legacy");
    let (mut m, ino) = machine_of_1k_blocks();
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 1, half: false }, 1);
    run(&mut m, &policy, Operation::Store { file: ino, page: 3 }, 2);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    assert_eq!(m.kernel.page(page).bh[3].content, Token::Data { ino, lblk: 3, write: 2 });
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 3);
    assert!(m.kernel.page(page).bh[2..].iter().all(|b| b.content == Token::Zero && b.mapped.is_none()));
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 4, half: false }, 4);
    assert_eq!(m.kernel.page(page).bh[3].content, Token::Zero);
}

/// fallocate that grows a file of 1 KiB blocks to inside a page: XFS sets the size through
/// xfs_setattr_size -> truncate_setsize, whose truncate_pagecache zeroes the page past the new
/// EOF (a store there is wiped); ext4's ext4_alloc_file_blocks raises i_size and leaves the page
/// alone: the policy's `fallocate_truncate_pagecache`.
#[test]
fn fallocate_growing_to_inside_a_page_zeroes_past_the_new_eof_as_the_policy_says() {
    for truncate_pagecache in [false, true] {
        let mut policy = policy("invalidate_lock");
        policy.fallocate_truncate_pagecache = truncate_pagecache;
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 1, half: false }, 1);
        run(&mut m, &policy, Operation::Store { file: ino, page: 3 }, 2);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        run(&mut m, &policy, Operation::Fallocate { file: ino, page: 1, pages: 1, keep_size: false }, 3);
        assert_eq!(m.kernel.inode(ino).i_size, 2);
        let expected = if truncate_pagecache { Token::Zero } else { Token::Data { ino, lblk: 3, write: 2 } };
        assert_eq!(m.kernel.page(page).bh[3].content, expected, "truncate_pagecache: {truncate_pagecache}");
        assert!(m.kernel.locks.iter().all(|l| l.requests.is_empty()));
    }
}

/// write(2) on a file where an EOF inside a block is reachable (docs/model.md, "An EOF inside a
/// block"): a write that grows the file and ends half-way into its last block leaves EOF there
/// (generic_write_end's i_size_write(pos + copied)), with the rest of the new block zeroed by
/// write_begin; a write through the end of that block moves EOF to the block's end. Where no such
/// EOF is reachable, the size rounds up to the block as before.
#[test]
fn a_write_ending_half_way_into_a_block_it_grows_the_file_to_leaves_eof_there() {
    use racesim_kernel::WriteEnds;
    use racesim_kernel::types::PagePart;
    let policy = policy("invalidate_lock");
    let write = |page, last| Operation::Write {
        file: 0,
        page,
        pages: 1,
        buffer: UserBuffer::Anonymous,
        fail_at: None,
        allocation: racesim_kernel::WriteAllocation::PerPage,
        ends: WriteEnds { first: PagePart::Whole, last },
    };
    for reachable in [false, true] {
        let (mut m, ino) = machine(2);
        m.kernel.inode_mut(ino).eof_half_reachable = reachable;
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 0, half: false }, 1);
        run(&mut m, &policy, write(0, PagePart::Head), 2);
        let inode = m.kernel.inode(ino);
        assert_eq!((inode.i_size, inode.eof_half), (1, reachable));
        let page = inode.cache[0].unwrap();
        assert_eq!(
            m.kernel.page(page).content,
            Token::Data { ino, lblk: 0, write: 2 }.overlay(PagePart::Tail, Token::Zero)
        );
        // A whole write of block 0 runs through the end of the block that holds EOF.
        run(&mut m, &policy, write(0, PagePart::Whole), 3);
        assert_eq!((m.kernel.inode(ino).i_size, m.kernel.inode(ino).eof_half), (1, false));
    }
}

/// Which function zeroes the old EOF block's tail when a write(2) or a fallocate grows the file
/// past it, under each `truncate_up_zero_eof`, and whether before the size changes.
fn growth_zeroing_by_policy() -> [(racesim_kernel::policy::TruncateUpZero, Option<(&'static str, bool)>); 5] {
    use racesim_kernel::policy::TruncateUpZero;
    [
        (TruncateUpZero::None, None),
        (TruncateUpZero::Ext4BlockTruncatePage, Some(("ext4_zero_partial_blocks", false))),
        (TruncateUpZero::Ext4BlockZeroEof, Some(("ext4_block_zero_eof", true))),
        (TruncateUpZero::XfsZeroEof, Some(("xfs_zero_eof", true))),
        (TruncateUpZero::IomapZeroRange, Some(("iomap_zero_range", true))),
    ]
}

/// A file of `pages` pages under invalidate_lock with `zero`, truncated to EOF half-way into
/// page 0, whose whole block a store then writes: the policy, the machine, the file and page 0.
fn store_past_half_eof(
    zero: racesim_kernel::policy::TruncateUpZero,
    pages: u32,
) -> (Policy, Machine, Ino, racesim_kernel::types::PageId) {
    let mut policy = policy("invalidate_lock");
    policy.truncate_up_zero_eof = zero;
    let (mut m, ino) = machine(pages);
    m.kernel.inode_mut(ino).eof_half_reachable = true;
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 1, half: true }, 1);
    run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    (policy, m, ino, page)
}

/// A write(2) that starts past the block holding an EOF inside it: the old EOF block's tail (a
/// store through the mapping put data there, past EOF) is zeroed as the policy's
/// `truncate_up_zero_eof` says. ext4 before c7fc0366c656 leaves it; c7fc0366c656's
/// ext4_zero_partial_blocks zeroes it after i_size_write, in ext4_write_end; ext4 7.1
/// (ext4_block_zero_eof in ext4_write_checks) and XFS zero it in the write checks, before the
/// copy and the size change.
#[test]
fn a_write_past_the_block_holding_eof_zeroes_its_tail_as_the_policy_says() {
    use racesim_kernel::types::PagePart;
    let cases = growth_zeroing_by_policy();
    for (zero, expected) in cases {
        let (policy, mut m, ino, page) = store_past_half_eof(zero, 2);
        assert_eq!(m.kernel.page(page).content, Token::Data { ino, lblk: 0, write: 2 });
        m.log.clear();
        assert_eq!(run(&mut m, &policy, buffered_write(ino, 1), 3), Outcome::Pages(1));
        assert_eq!((m.kernel.inode(ino).i_size, m.kernel.inode(ino).eof_half), (2, false));
        let tail = m.kernel.page(page).content.halves()[1];
        let zeroed = m.log.iter().position(|e| matches!(e.change, Change::TailZeroed { lblk: 0, .. }));
        let grown = m.log.iter().position(|e| matches!(e.change, Change::ISizeSet { i_size: 2, .. })).unwrap();
        match expected {
            None => {
                assert_eq!(zeroed, None, "{zero:?}");
                assert_eq!(tail, Token::Data { ino, lblk: 0, write: 2 }.halves()[1], "{zero:?}: the store's tail");
            }
            Some((function, before)) => {
                let zeroed = zeroed.unwrap_or_else(|| panic!("{zero:?}: the tail is zeroed"));
                assert_eq!(m.log[zeroed].function, function);
                assert_eq!(zeroed < grown, before, "{zero:?}: zeroed before i_size grew?");
                let page_content = m.kernel.page(page).content;
                assert_eq!(
                    page_content,
                    Token::Data { ino, lblk: 0, write: 2 }.overlay(PagePart::Tail, Token::Zero),
                    "{zero:?}"
                );
                assert!(m.kernel.page(page).dirty, "{zero:?}: the zeroes go to disk at writeback");
            }
        }
    }
}

/// fallocate(mode 0) growing a file whose EOF lies half-way into a block zeroes that block's
/// tail (a store through the mapping put data there, past EOF) as the policy's
/// `truncate_up_zero_eof` says: ext4 before c7fc0366c656 leaves it; 6.13 to 6.19 zero it in
/// ext4_alloc_file_blocks after the size update (ext4_zero_partial_blocks); ext4 7.1
/// (ext4_block_zero_eof) and XFS (xfs_setattr_size's zeroing) before it. With
/// FALLOC_FL_KEEP_SIZE the size stays and nothing is zeroed. The same for a range over that
/// block: past it, over it and past it, or over it alone (EOF moves to the block's end).
#[test]
fn fallocate_past_the_block_holding_eof_zeroes_its_tail_as_the_policy_says() {
    use racesim_kernel::types::PagePart;
    let stored = |ino| Token::Data { ino, lblk: 0, write: 2 };
    let cases = growth_zeroing_by_policy();
    for (zero, expected) in cases {
        for keep_size in [false, true] {
            for (first, count) in [(1, 2), (0, 3), (0, 1)] {
                let case = format!("{zero:?}, keep_size {keep_size}, blocks {first}+{count}");
                let (policy, mut m, ino, page) = store_past_half_eof(zero, 3);
                m.log.clear();
                let fallocate = Operation::Fallocate { file: ino, page: first, pages: count, keep_size };
                assert_eq!(run(&mut m, &policy, fallocate, 3), Outcome::Ok);
                let inode = m.kernel.inode(ino);
                let end = first + count;
                let size = if keep_size { (1, true) } else { (end, false) };
                assert_eq!((inode.i_size, inode.eof_half), size, "{case}");
                assert!(matches!(inode.blocks[0], Extent::Written(_)), "{case}: the stored block stays written");
                let zeroed = m.log.iter().position(|e| matches!(e.change, Change::TailZeroed { lblk: 0, .. }));
                let content = m.kernel.page(page).content;
                match expected {
                    Some((function, before)) if !keep_size => {
                        let zeroed = zeroed.unwrap_or_else(|| panic!("{case}: the tail is zeroed"));
                        assert_eq!(m.log[zeroed].function, function);
                        let grown = m
                            .log
                            .iter()
                            .position(|e| matches!(e.change, Change::ISizeSet { i_size, .. } if i_size == end));
                        assert_eq!(zeroed < grown.unwrap(), before, "{case}: zeroed before i_size grew?");
                        assert_eq!(content, stored(ino).overlay(PagePart::Tail, Token::Zero), "{case}");
                        assert!(m.kernel.page(page).dirty, "{case}: the zeroes go to disk at writeback");
                    }
                    _ => {
                        assert_eq!(zeroed, None, "{case}");
                        assert_eq!(content, stored(ino), "{case}: the store's tail");
                    }
                }
            }
        }
    }
}

/// Zero range past the block that holds an EOF inside it grows the file through the same
/// `ext4_alloc_file_blocks` as fallocate (mode 0), and XFS sets its new size through the same
/// `xfs_vn_setattr_size`: the old EOF block's tail, where a store through the mapping put data
/// past EOF, is zeroed as the policy's `truncate_up_zero_eof` says, before or after the size
/// grows, and the range reads back as zeroes (unwritten).
#[test]
fn zero_range_past_the_block_holding_eof_zeroes_its_tail_as_the_policy_says() {
    use racesim_kernel::types::PagePart;
    let stored = |ino| Token::Data { ino, lblk: 0, write: 2 };
    for (zero, expected) in growth_zeroing_by_policy() {
        for (first, count) in [(1, 2), (2, 1)] {
            let case = format!("{zero:?}, blocks {first}+{count}");
            let (policy, mut m, ino, page) = store_past_half_eof(zero, 3);
            m.log.clear();
            let zero_range = Operation::ZeroRange { file: ino, page: first, pages: count };
            assert_eq!(run(&mut m, &policy, zero_range, 3), Outcome::Ok);
            let inode = m.kernel.inode(ino);
            let end = first + count;
            assert_eq!((inode.i_size, inode.eof_half), (end, false), "{case}");
            for lblk in first..end {
                assert!(matches!(inode.blocks[lblk as usize], Extent::Unwritten(_)), "{case}: block {lblk}");
            }
            let zeroed = m.log.iter().position(|e| matches!(e.change, Change::TailZeroed { lblk: 0, .. }));
            let content = m.kernel.page(page).content;
            match expected {
                Some((function, before)) => {
                    let zeroed = zeroed.unwrap_or_else(|| panic!("{case}: the tail is zeroed"));
                    assert_eq!(m.log[zeroed].function, function, "{case}");
                    let grown =
                        m.log.iter().position(|e| matches!(e.change, Change::ISizeSet { i_size, .. } if i_size == end));
                    assert_eq!(zeroed < grown.unwrap(), before, "{case}: zeroed before i_size grew?");
                    assert_eq!(content, stored(ino).overlay(PagePart::Tail, Token::Zero), "{case}");
                }
                None => {
                    assert_eq!(zeroed, None, "{case}");
                    assert_eq!(content, stored(ino), "{case}: the store's tail");
                }
            }
        }
    }
}

/// fallocate over a hole that holds an EOF inside it (a truncate up to 1.5 pages of a 1-page
/// file): the hole becomes an unwritten extent, and without FALLOC_FL_KEEP_SIZE EOF moves to
/// the block's end. Nothing is cached over the hole and the model zeroes nothing: the XFS
/// policies zero before the allocation and find a hole. That is the model's simplification
/// (docs/model.md, "An EOF inside a block"): XFS 4.1 zeroes after it, finds the block
/// unwritten and writes zeroes over its tail (`xfs_iozero`); the tail reads as zeroes either
/// way.
#[test]
fn fallocate_over_a_hole_holding_eof_allocates_it_unwritten() {
    for (zero, _) in growth_zeroing_by_policy() {
        for keep_size in [false, true] {
            let mut policy = policy("invalidate_lock");
            policy.truncate_up_zero_eof = zero;
            let (mut m, ino) = truncated_to_half_a_block(&policy, 1, 2);
            assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Hole);
            m.log.clear();
            let fallocate = Operation::Fallocate { file: ino, page: 1, pages: 1, keep_size };
            assert_eq!(run(&mut m, &policy, fallocate, 2), Outcome::Ok);
            let inode = m.kernel.inode(ino);
            assert!(matches!(inode.blocks[1], Extent::Unwritten(_)), "{zero:?}, keep_size {keep_size}");
            assert_eq!((inode.i_size, inode.eof_half), (2, keep_size), "{zero:?}, keep_size {keep_size}");
            assert!(!m.log.iter().any(|e| matches!(e.change, Change::TailZeroed { .. })), "{zero:?}");
        }
    }
}

/// ext4 before 4.12 sampled i_size for writeback's tail zeroing before clear_page_dirty_for_io
/// (`writeback_size_sample = "before_clear_dirty"`), on any block size: a truncate up and a
/// store into the page's blocks past the old EOF in between are zeroed as past EOF (Jan Kara's
/// "ext4: fix data corruption for mmap writes", xfstests generic/438). Here with 1 KiB blocks.
#[test]
fn sub_page_writeback_zeroes_past_the_i_size_its_policy_samples() {
    use racesim_kernel::policy::WritebackSizeSample;
    for (sample, zeroed) in
        [(WritebackSizeSample::BeforeClearDirty, true), (WritebackSizeSample::AfterClearDirty, false)]
    {
        let mut policy = policy("invalidate_lock");
        policy.writeback_size_sample = sample;
        let (mut m, ino) = machine_of_1k_blocks();
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 1);
        run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 2);
        run(&mut m, &policy, Operation::Store { file: ino, page: 1 }, 3);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        let landed = Token::Data { ino, lblk: 3, write: 4 };
        // After writeback's page lock (and its early sample, if any), before
        // clear_page_dirty_for_io: the file grows to the page's end and a store lands in block 3
        // (as a truncate up and a store through the writable PTE would).
        let mut grown = false;
        let last_before_clear = match sample {
            WritebackSizeSample::BeforeClearDirty => "mpage_submit_page",
            WritebackSizeSample::AfterClearDirty => "write_cache_pages",
        };
        let before_step = |m: &mut Machine| {
            let locked = m.log.last().is_some_and(|e| e.function == last_before_clear);
            if locked && !grown {
                m.kernel.inode_mut(ino).i_size = 4;
                m.kernel.page_mut(page).bh[3].content = landed;
                grown = true;
            }
        };
        let mut cpu = HookedCpu { inner: SerialCpu::new(&mut m), before_step };
        let mut task = Task::new(&mut cpu, 0, 0, &policy);
        assert_eq!(task.run_operation(0, &Operation::Writeback { file: ino }, 0), Outcome::Ok);
        assert!(grown, "{sample:?}: writeback locked the page");
        let content = m.kernel.page(page).bh[3].content;
        assert_eq!(content == Token::Zero, zeroed, "{sample:?}: block 3 holds {content:?}");
    }
}

/// On a file of 1 KiB blocks a direct write of one block flushes and invalidates the whole page
/// that holds it (Linux's flush and `invalidate_inode_pages2_range` take every page the byte
/// range touches): a store's dirty neighbouring block reaches the disk first, the page and its
/// PTE go, and the bio writes the one block. One that ends past EOF grows `i_size` in blocks.
#[test]
fn a_direct_write_of_one_block_flushes_and_evicts_its_whole_page() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
    let page = m.kernel.inode(ino).cache[0].unwrap();
    assert!(m.kernel.page(page).dirty && pte(&m, ino, 0).is_some());
    assert_eq!(run(&mut m, &policy, dio_write(ino, 1, 1, false, WriteEnds::default()), 3), Outcome::Pages(1));
    let on_disk =
        |m: &Machine, lblk: u32| m.kernel.disk[m.kernel.inode(ino).blocks[lblk as usize].pblk().unwrap() as usize];
    assert_eq!(on_disk(&m, 0), Token::Data { ino, lblk: 0, write: 2 }, "the store, flushed with the page");
    assert_eq!(on_disk(&m, 1), Token::Data { ino, lblk: 1, write: 3 }, "the direct write");
    assert_eq!(on_disk(&m, 2), Token::Data { ino, lblk: 2, write: 0 });
    assert!(m.kernel.inode(ino).cache[0].is_none() && pte(&m, ino, 0).is_none(), "the whole page went");
    let bio = m.log.iter().find_map(|e| match e.change {
        Change::BioSubmitted { range, .. } => Some(range),
        _ => None,
    });
    assert_eq!(bio, Some(PageRange::new(1, 2)), "the bio names the block");
    // Blocks 4 and 5, in page 1, past EOF: the file grows to 6 blocks.
    assert_eq!(run(&mut m, &policy, dio_write(ino, 4, 2, false, WriteEnds::default()), 4), Outcome::Pages(2));
    assert_eq!(m.kernel.inode(ino).i_size, 6);
    assert_eq!(on_disk(&m, 5), Token::Data { ino, lblk: 5, write: 4 });
}

/// Writeback of a page of 1 KiB blocks writes its dirty buffers under ext4 and every uptodate
/// one under XFS (`writeback_clean_buffers`): a write(2) of block 0 into a page whose block 1
/// changed on disk behind the page cache (as a direct write changes it) leaves that block alone
/// under ext4 and writes the page's old copy over it under XFS. A store dirties every buffer.
#[test]
fn writeback_writes_a_pages_dirty_buffers_or_every_uptodate_one_as_the_policy_says() {
    for (name, clean_buffers) in [("ext4", false), ("xfs", true)] {
        let mut policy = policy("invalidate_lock");
        assert!(!policy.writeback_clean_buffers, "ext4 writes dirty buffers only");
        policy.writeback_clean_buffers = clean_buffers;
        let (mut m, ino) = machine_of_1k_blocks();
        let read = Operation::Read { file: ino, page: 0, pages: 4, buffer: UserBuffer::Anonymous };
        assert_eq!(run(&mut m, &policy, read, 1), Outcome::Pages(4));
        let page = m.kernel.inode(ino).cache[0].unwrap();
        assert!(m.kernel.page(page).bh.iter().all(|b| b.uptodate && !b.dirty), "{name}: read in clean");
        let block1 = m.kernel.inode(ino).blocks[1].pblk().unwrap();
        let behind = Token::Data { ino, lblk: 1, write: 9 };
        m.kernel.disk[block1 as usize] = behind;
        assert_eq!(run(&mut m, &policy, anonymous_write(ino, 0, 1, None), 2), Outcome::Pages(1));
        let dirty: Vec<bool> = m.kernel.page(page).bh.iter().map(|b| b.dirty).collect();
        assert_eq!(dirty, [true, false, false, false], "{name}: write(2) dirties the buffer it wrote");
        run(&mut m, &policy, Operation::Fsync { file: ino }, 3);
        assert!(m.kernel.page(page).bh.iter().all(|b| !b.dirty), "{name}: written back clean");
        let block0 = m.kernel.inode(ino).blocks[0].pblk().unwrap();
        assert_eq!(m.kernel.disk[block0 as usize], Token::Data { ino, lblk: 0, write: 2 });
        let expected = if clean_buffers { Token::Data { ino, lblk: 1, write: 0 } } else { behind };
        assert_eq!(m.kernel.disk[block1 as usize], expected, "{name}: block 1");
        // A store's page_mkwrite dirties every buffer of the page (__set_page_dirty_buffers).
        run(&mut m, &policy, Operation::Store { file: ino, page: 2 }, 4);
        assert!(m.kernel.page(page).bh.iter().all(|b| b.dirty), "{name}: set_page_dirty");
    }
}

/// Truncate down to half-way into an unwritten block that a write(2) dirtied: iomap
/// (`iomap_truncate_page`, before `truncate_setsize`) skips the unwritten extent and leaves the
/// page as it was, so the tail is zeroed in memory only, by `truncate_setsize`'s partial page,
/// and the page is left clean if it was; with 869ae85dae64's flush (`truncate_flush_new_eof`)
/// the page is written first, the block converted, and iomap zeroes and dirties the tail; with
/// 6.12's (`iomap_zero_flush_unwritten`) iomap itself finds the page dirty over the
/// unwritten block, writes it back and maps the block again, with the same outcome. Under
/// ext4 (buffer heads, after the size change) the buffer the write mapped is zeroed and the
/// page dirtied. Over an unwritten block with no cached page, nothing is zeroed on either path.
#[test]
fn truncate_down_zeroes_the_new_eof_block_as_the_filesystem_decides() {
    use racesim_kernel::policy::TruncateUpZero;
    let unwritten_file = || {
        let (mut m, ino) = machine(1);
        let pblk = m.kernel.inode(ino).blocks[0].pblk().unwrap();
        m.kernel.inode_mut(ino).blocks[0] = Extent::Unwritten(pblk);
        m.kernel.inode_mut(ino).eof_half_reachable = true;
        (m, ino, pblk)
    };
    let truncate = |ino| Operation::Truncate { file: ino, size: 1, half: true };
    let functions = |m: &Machine, from: usize| m.log[from..].iter().map(|e| e.function).collect::<Vec<_>>();
    for (name, zero, flush, iomap_flush) in [
        ("xfs-5.3", TruncateUpZero::IomapZeroRange, false, false),
        ("xfs-5.10", TruncateUpZero::IomapZeroRange, true, false),
        ("xfs-6.12", TruncateUpZero::IomapZeroRange, false, true),
        ("ext4", TruncateUpZero::None, false, false),
    ] {
        let mut policy = policy("invalidate_lock");
        policy.truncate_up_zero_eof = zero;
        policy.truncate_flush_new_eof = flush;
        policy.iomap_zero_flush_unwritten = iomap_flush;
        let (mut m, ino, pblk) = unwritten_file();
        run(&mut m, &policy, buffered_write(ino, 0), 1);
        let page = m.kernel.inode(ino).cache[0].unwrap();
        assert!(m.kernel.page(page).dirty, "{name}: the write dirtied the page");
        let from = m.log.len();
        run(&mut m, &policy, truncate(ino), 2);
        let seen = functions(&m, from);
        let (zeroed_by_fs, size_set) = (
            seen.iter().position(|f| *f == "mark_buffer_dirty"),
            seen.iter().position(|f| *f == "i_size_write").unwrap(),
        );
        let data = Token::Data { ino, lblk: 0, write: 1 };
        let p = m.kernel.page(page);
        assert_eq!(p.content, data.overlay(racesim_kernel::types::PagePart::Tail, Token::Zero), "{name}");
        match name {
            "xfs-5.3" => {
                assert_eq!(zeroed_by_fs, None, "iomap skips the unwritten block under a dirty page");
                assert!(p.dirty && m.kernel.inode(ino).blocks[0] == Extent::Unwritten(pblk));
            }
            "xfs-5.10" | "xfs-6.12" => {
                let flusher = if flush { "xfs_setattr_size" } else { "iomap_truncate_page" };
                let flushed = seen.iter().position(|f| *f == "write_cache_pages");
                assert!(flushed.is_some_and(|w| seen[w - 1] == flusher), "{name}: the flush of the new EOF page");
                assert_eq!(m.kernel.disk[pblk as usize], data, "written before the zeroing");
                assert_eq!(m.kernel.inode(ino).blocks[0], Extent::Written(pblk), "and converted");
                assert!(zeroed_by_fs.unwrap() < size_set, "XFS zeroes before truncate_setsize");
                assert!(p.dirty, "the zeroed tail is for writeback to write");
            }
            _ => {
                assert!(zeroed_by_fs.unwrap() > size_set, "ext4_truncate zeroes after ext4_setattr's size");
                assert!(p.dirty);
            }
        }
        // No page over the unwritten block: nothing to zero, and no page is created.
        let (mut m, ino, _) = unwritten_file();
        run(&mut m, &policy, truncate(ino), 2);
        assert!(m.kernel.inode(ino).cache[0].is_none(), "{name}: get_block leaves the unwritten block unmapped");
    }
}

/// A file of `pages` written pages truncated under `policy` to EOF half-way into block
/// `size - 1`.
fn truncated_to_half_a_block(policy: &Policy, pages: u32, size: u32) -> (Machine, Ino) {
    let (mut m, ino) = machine(pages);
    m.kernel.inode_mut(ino).eof_half_reachable = true;
    run(&mut m, policy, Operation::Truncate { file: ino, size, half: true }, 1);
    (m, ino)
}

/// A direct read of the block that holds an EOF inside it reads the block whole from disk and
/// returns its head (fs/direct-io.c and iomap cut what they transferred at `dio->i_size`): what
/// the disk holds past EOF (here a leftover the model plants there) is not in what the read
/// returns. The pages before it are returned whole.
#[test]
fn a_direct_read_of_the_block_holding_eof_returns_its_head() {
    use racesim_kernel::types::PagePart;
    let policy = policy("invalidate_lock");
    let (mut m, ino) = truncated_to_half_a_block(&policy, 3, 2);
    let pblk = m.kernel.inode(ino).blocks[1].pblk().unwrap();
    let old = Token::Data { ino, lblk: 1, write: 0 };
    m.kernel.page_mut(m.kernel.inode(ino).cache[1].unwrap()).dirty = false;
    m.kernel.disk[pblk as usize] = old;
    m.log.clear();
    let read = Operation::DioRead { file: ino, page: 0, pages: 3, buffer: UserBuffer::Anonymous };
    assert_eq!(run(&mut m, &policy, read, 2), Outcome::Pages(2));
    let seen: Vec<(u32, Token)> = m
        .log
        .iter()
        .filter_map(|e| match e.change {
            Change::UserRead { index, token, .. } => Some((index, token)),
            _ => None,
        })
        .collect();
    assert_eq!(seen, [(0, Token::Data { ino, lblk: 0, write: 0 }), (1, old.overlay(PagePart::Tail, Token::Zero))]);
}

/// ext4_punch_hole sets a hole that extends past EOF "to end after the page that contains
/// i_size". Where EOF lies half-way into block 1 (a 1.5-page file), that is page 1: a punch of
/// blocks 1 and 2 leaves block 2, fallocated past EOF, allocated.
#[test]
fn a_punch_past_an_eof_inside_a_block_ends_with_that_blocks_page() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = truncated_to_half_a_block(&policy, 3, 2);
    run(&mut m, &policy, Operation::Fallocate { file: ino, page: 2, pages: 1, keep_size: true }, 2);
    assert!(matches!(m.kernel.inode(ino).blocks[2], Extent::Unwritten(_)));
    run(&mut m, &policy, Operation::PunchHole { file: ino, page: 1, pages: 2 }, 3);
    let inode = m.kernel.inode(ino);
    assert_eq!(inode.blocks[1], Extent::Hole, "the EOF block is punched");
    assert!(matches!(inode.blocks[2], Extent::Unwritten(_)), "the block past the EOF page stays");
    assert_eq!((inode.i_size, inode.eof_half), (2, true));
}

/// The same rule stretches a shorter hole that extends past EOF to the end of the EOF page, on
/// a file of 1 KiB blocks: EOF at 2 KiB, a punch of blocks 1 and 2 zeroes blocks 1 to 3 of the
/// page (truncate_pagecache_range over the stretched range), block 3 past EOF included.
#[test]
fn a_punch_past_eof_stretches_to_the_end_of_the_eof_page() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = machine_of_1k_blocks();
    run(&mut m, &policy, Operation::Truncate { file: ino, size: 2, half: false }, 1);
    run(&mut m, &policy, Operation::Store { file: ino, page: 0 }, 2);
    m.log.clear();
    run(&mut m, &policy, Operation::PunchHole { file: ino, page: 1, pages: 2 }, 3);
    // The punch's own zeroing, not the write-out's of the blocks past EOF before it.
    let zeroed = m.log.iter().find_map(|e| match e.change {
        Change::BlocksZeroed { first, end, .. } if e.function == "block_invalidatepage" => Some((first, end)),
        _ => None,
    });
    assert_eq!(zeroed, Some((1, 4)), "{:#?}", m.log);
}

/// A punch of the block that holds an EOF inside it writes the range out first, as
/// ext4_punch_hole does before inode_lock: truncate zeroed that block's tail in the dirty page
/// only, and the write-out puts the zeroes on the disk before the page leaves the cache, so a
/// fault between the eviction and the freeing reads them (not the old tail). Under legacy,
/// whose faults nothing keeps out of the punch.
#[test]
fn a_punch_of_the_eof_block_writes_its_zeroed_tail_out_first() {
    use racesim_kernel::types::PagePart;
    let policy = policy("legacy");
    let (mut m, ino) = truncated_to_half_a_block(&policy, 2, 2);
    let pblk = m.kernel.inode(ino).blocks[1].pblk().unwrap();
    m.log.clear();
    run(&mut m, &policy, Operation::PunchHole { file: ino, page: 1, pages: 1 }, 2);
    let written = m.log.iter().position(|e| matches!(e.change, Change::DiskWrite { .. }));
    let evicted = m.log.iter().position(|e| e.function == "truncate_inode_page");
    assert!(written.unwrap() < evicted.unwrap(), "{:#?}", m.log);
    let initial = Token::Data { ino, lblk: 1, write: 0 };
    assert_eq!(m.kernel.disk[pblk as usize], initial.overlay(PagePart::Tail, Token::Zero));
    assert_eq!(m.kernel.inode(ino).blocks[1], Extent::Hole);
}

/// Collapse and insert move an EOF inside a block with its block: ext4_collapse_range's
/// "new_size = i_size_read(inode) - len" and ext4_insert_range's "inode->i_size += len" keep
/// the byte offset inside the block. Both refuse as Linux does where EOF lies inside a block:
/// a collapse that reaches EOF ("offset + len >= i_size_read(inode)"), an insert at or past it.
#[test]
fn collapse_and_insert_move_an_eof_inside_a_block_with_it() {
    let policy = policy("invalidate_lock");
    let (mut m, ino) = truncated_to_half_a_block(&policy, 3, 3);
    assert_eq!(run(&mut m, &policy, Operation::CollapseRange { file: ino, page: 0, pages: 1 }, 2), Outcome::Ok);
    assert_eq!((m.kernel.inode(ino).i_size, m.kernel.inode(ino).eof_half), (2, true));
    assert_eq!(run(&mut m, &policy, Operation::InsertRange { file: ino, page: 1, pages: 2 }, 3), Outcome::Ok);
    assert_eq!((m.kernel.inode(ino).i_size, m.kernel.inode(ino).eof_half), (4, true));
    // EOF at 3.5 pages: a collapse of [2, 4) reaches it, an insert at 4 starts past it.
    assert_eq!(run(&mut m, &policy, Operation::CollapseRange { file: ino, page: 2, pages: 2 }, 4), Outcome::Einval);
    assert_eq!(run(&mut m, &policy, Operation::InsertRange { file: ino, page: 4, pages: 1 }, 5), Outcome::Einval);
    assert_eq!((m.kernel.inode(ino).i_size, m.kernel.inode(ino).eof_half), (4, true));
}

/// Steps that read `i_size` to decide to leave it alone declare the read in their events, so
/// that a partial-order reduction orders them against a size change even where no lock does
/// (docs/exhaustive.md, "Soundness"): write_end of a write inside EOF, a DAX write's copy,
/// fallocate's and zero range's size update inside EOF, a direct IO's block mapping (a read
/// wholly past EOF too, which once logged nothing in that step).
#[test]
fn steps_that_leave_the_size_alone_declare_their_read_of_it() {
    let policy = policy("invalidate_lock");
    let write = |ino| Operation::Write {
        file: ino,
        page: 0,
        pages: 1,
        buffer: UserBuffer::Anonymous,
        fail_at: None,
        allocation: WriteAllocation::PerPage,
        ends: WriteEnds::default(),
    };
    // (what, on a DAX file, the operation, the function whose step decides on the size)
    type Case = (&'static str, bool, fn(Ino) -> Operation, &'static str);
    let cases: [Case; 6] = [
        ("write inside EOF", false, write, "block_write_end"),
        ("DAX write inside EOF", true, write, "dax_iomap_actor"),
        (
            "fallocate inside EOF",
            false,
            |ino| Operation::Fallocate { file: ino, page: 0, pages: 1, keep_size: false },
            "ext4_update_inode_size",
        ),
        (
            "zero range inside EOF",
            false,
            |ino| Operation::ZeroRange { file: ino, page: 0, pages: 1 },
            "ext4_update_inode_size",
        ),
        (
            "direct read inside EOF",
            false,
            |ino| Operation::DioRead { file: ino, page: 0, pages: 1, buffer: UserBuffer::Anonymous },
            "do_blockdev_direct_IO",
        ),
        (
            "direct read past EOF",
            false,
            |ino| Operation::DioRead { file: ino, page: 2, pages: 1, buffer: UserBuffer::Anonymous },
            "do_blockdev_direct_IO",
        ),
    ];
    for (what, dax, op, decides) in cases {
        let (mut m, ino) = if dax { dax_machine(8) } else { machine(2) };
        let mut step_starts = Vec::new();
        let before_step = |m: &mut Machine| step_starts.push(m.log.len());
        let mut cpu = HookedCpu { inner: SerialCpu::new(&mut m), before_step };
        let mut task = Task::new(&mut cpu, 0, 0, &policy);
        task.run_operation(0, &op(ino), 1);
        let at = m.log.iter().rposition(|e| e.function == decides).unwrap_or_else(|| panic!("{what}: no {decides}"));
        let start = step_starts[step_starts.iter().rposition(|&s| s <= at).unwrap()];
        let end = step_starts.iter().copied().find(|&s| s > at).unwrap_or(m.log.len());
        let mut accesses = Vec::new();
        for e in &m.log[start..end] {
            e.accesses(&mut accesses);
        }
        assert_eq!(m.kernel.inode(ino).i_size, 2, "{what}: the size stays");
        let read_i_size = Access { object: racesim_kernel::event::Object::ISize(ino), write: false };
        assert!(
            accesses.contains(&read_i_size),
            "{what}: the step of {decides} declares i_size: {:?}",
            &m.log[start..end]
        );
    }
}
