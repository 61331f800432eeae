//! Identifiers and small value types shared by the whole model: inode, page, block and actor
//! numbers, the content token a disk block or page holds, and block-map extents.
//!
//! Glossary (the only abbreviations used in names): `lblk` logical block (file offset in
//! blocks), `pblk` physical block, `pte` page-table entry, `pfn` page frame number (a DAX PTE
//! points at the pmem block itself), `dio` direct IO. By default page size equals block size,
//! so a file offset in pages and a logical block number are the same number; a file with
//! smaller blocks counts its `Lblk`s in blocks (`crate::state::Inode::blocks_per_page`).

use serde::{Deserialize, Serialize};

/// Index of an inode in [`crate::Kernel::inodes`].
pub type Ino = u16;
/// Logical block (and page index) inside a file.
pub type Lblk = u32;

/// A size of `blocks` blocks, the last of them straddling EOF when `half` (as `Inode::i_size`
/// and `Inode::eof_half` count it), in half blocks: such sizes compare as Linux's sizes in
/// bytes do, where a whole-block count cannot tell an EOF inside a block from the block's end.
pub fn half_blocks(blocks: Lblk, half: bool) -> Lblk {
    2 * blocks - Lblk::from(half)
}
/// Physical block on the disk.
pub type Pblk = u32;
/// Index of a page frame in [`crate::Kernel::pages`]. Frames are never reused within one
/// execution, so a PTE that still points at a truncated page keeps pointing at its record.
pub type PageId = u32;
/// Index of an address space in [`crate::Kernel::mms`].
pub type MmId = u16;
/// Index of an actor (a scheduled task running a list of operations).
pub type ActorId = u8;
/// Identifies one user-level operation instance: its global number in the scenario (1-based;
/// 0 is the file's initial content).
pub type WriteId = u32;

/// What a disk block or a page holds. Tokens stand in for bytes: a token says who wrote the
/// data and where, which is all the oracles need to tell legal content from stale content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Token {
    /// Zeroes: a hole, a pre-zeroed block, or a page zeroed by the kernel.
    Zero,
    /// Data written at `lblk` of inode `ino` by operation `write` (0 = initial content).
    Data { ino: Ino, lblk: Lblk, write: WriteId },
    /// Whatever a free block held before it was allocated: data of a previous owner.
    Leftover { pblk: Pblk },
    /// A block whose two halves hold different things: a write(2) covered part of it
    /// ([`PagePart`]) and the rest came from the disk, from zeroing, or from an earlier write.
    /// Always two different halves ([`Token::from_halves`] keeps it canonical), so two tokens
    /// are equal exactly when the bytes they stand for are.
    Halves { head: Half, tail: Half },
}

/// What one half of a block holds: a [`Token`] that is not itself split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Half {
    Zero,
    Data { ino: Ino, lblk: Lblk, write: WriteId },
    Leftover { pblk: Pblk },
}

impl Half {
    /// The whole-block token whose halves are both this.
    pub fn whole(self) -> Token {
        match self {
            Half::Zero => Token::Zero,
            Half::Data { ino, lblk, write } => Token::Data { ino, lblk, write },
            Half::Leftover { pblk } => Token::Leftover { pblk },
        }
    }
}

/// The part of a page a write(2) covers: all of it, or the first or second half only (a write
/// that starts or ends part-way into a block). Partial writes are modelled on files whose block
/// is a page, so the part of the page is the part of its block; the two halves stand for any
/// split of the block at a byte (xfstests xfs/559 writes the last byte of a block, then a write
/// that ends one byte into it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PagePart {
    #[default]
    Whole,
    Head,
    Tail,
}

impl PagePart {
    pub fn is_whole(self) -> bool {
        self == PagePart::Whole
    }

    /// The rest of the block: the half a write of this part does not cover (nothing for a
    /// whole one, `Whole` standing for "no rest").
    pub fn rest(self) -> PagePart {
        match self {
            PagePart::Whole => PagePart::Whole,
            PagePart::Head => PagePart::Tail,
            PagePart::Tail => PagePart::Head,
        }
    }
}

impl Token {
    /// The two halves of the block this token stands for.
    pub fn halves(self) -> [Half; 2] {
        let half = match self {
            Token::Halves { head, tail } => return [head, tail],
            Token::Zero => Half::Zero,
            Token::Data { ino, lblk, write } => Half::Data { ino, lblk, write },
            Token::Leftover { pblk } => Half::Leftover { pblk },
        };
        [half, half]
    }

    /// The token of a block with these halves: a whole token where they are the same.
    pub fn from_halves(head: Half, tail: Half) -> Token {
        if head == tail { head.whole() } else { Token::Halves { head, tail } }
    }

    /// This content with every half that holds `from` (a whole token) holding the same half of
    /// `to` instead.
    pub fn replace(self, from: Token, to: Token) -> Token {
        let ([head, tail], [from_half, _], [to_head, to_tail]) = (self.halves(), from.halves(), to.halves());
        let head = if head == from_half { to_head } else { head };
        let tail = if tail == from_half { to_tail } else { tail };
        Token::from_halves(head, tail)
    }

    /// This content with `part` of it replaced by the same part of `new`.
    pub fn overlay(self, part: PagePart, new: Token) -> Token {
        let ([head, tail], [new_head, new_tail]) = (self.halves(), new.halves());
        match part {
            PagePart::Whole => new,
            PagePart::Head => Token::from_halves(new_head, tail),
            PagePart::Tail => Token::from_halves(head, new_tail),
        }
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Token::Zero => write!(f, "zeroes"),
            Token::Data { ino, lblk, write: 0 } => write!(f, "initial data of inode {ino} page {lblk}"),
            Token::Data { ino, lblk, write } => write!(f, "data of op#{write} for inode {ino} page {lblk}"),
            Token::Leftover { pblk } => write!(f, "leftover contents of block {pblk}"),
            Token::Halves { head, tail } => {
                write!(f, "{} in its first half, {} in its second", head.whole(), tail.whole())
            }
        }
    }
}

/// One logical block's entry in an inode's block map (the extent tree, one block at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extent {
    Hole,
    /// Delayed allocation: space reserved, no block yet; writeback allocates one.
    Delalloc,
    /// Allocated, but reads return zeroes until IO completion converts it.
    Unwritten(Pblk),
    Written(Pblk),
}

impl Extent {
    pub fn pblk(self) -> Option<Pblk> {
        match self {
            Extent::Hole | Extent::Delalloc => None,
            Extent::Unwritten(p) | Extent::Written(p) => Some(p),
        }
    }
}

/// Half-open range of page indices `[start, end)`. `end == u32::MAX` means "to EOF and beyond".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageRange {
    pub start: Lblk,
    pub end: Lblk,
}

impl PageRange {
    pub const WHOLE: PageRange = PageRange { start: 0, end: u32::MAX };
    pub fn new(start: Lblk, end: Lblk) -> Self {
        PageRange { start, end }
    }
    pub fn page(index: Lblk) -> Self {
        PageRange { start: index, end: index + 1 }
    }
    pub fn to_eof(start: Lblk) -> Self {
        PageRange { start, end: u32::MAX }
    }
    pub fn overlaps(self, other: PageRange) -> bool {
        self.start < other.end && other.start < self.end
    }
    /// The page indices of the pages that blocks `self` lie in, partial pages included, on a
    /// file of `blocks_per_page` blocks to a page (`self` itself where that is 1). An open end
    /// stays open.
    pub fn pages_holding(self, blocks_per_page: Lblk) -> PageRange {
        if blocks_per_page == 1 {
            return self;
        }
        let end = if self.end == u32::MAX { u32::MAX } else { self.end.div_ceil(blocks_per_page) };
        PageRange { start: self.start / blocks_per_page, end }
    }
}

impl std::fmt::Display for PageRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.end == u32::MAX {
            write!(f, "[{}, EOF)", self.start)
        } else if self.end == self.start + 1 {
            write!(f, "[{}]", self.start)
        } else {
            write!(f, "[{}, {})", self.start, self.end)
        }
    }
}
