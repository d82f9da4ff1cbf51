//! Choosing the QR mask on bit-packed rows and columns.
//!
//! ISO/IEC 18004 §7.8 has the encoder try all eight mask patterns and keep the one with the lowest
//! penalty. The `qrcode` crate scores each pattern module by module, boxing a closure per
//! position; that is over 97% of its encoding time. Here each row and each column is a `u128`
//! (codes up to version 27, 125 modules; larger ones fall back to the crate), masks come from
//! precomputed periodic tables, and every penalty rule is a handful of shifts and popcounts. The
//! rules and the tie-breaking (the first lowest score wins) are exactly the crate's, so the chosen
//! mask is the one the crate would choose; a test checks that on every version and level.

use qrcode::canvas::Canvas;
use qrcode::types::EcLevel;

use super::module_bits;

/// Widest code handled here: one `u128` per row.
const MAX_WIDTH: usize = 128;

/// Mask pattern `pattern` (0–7) at column `x`, row `y`: whether the module is inverted.
const fn inverts(pattern: usize, x: usize, y: usize) -> bool {
    match pattern {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => ((y / 2) + (x / 3)).is_multiple_of(2),
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + (x * y) % 3).is_multiple_of(2),
    }
}

/// Every pattern repeats every 12 modules in both directions, so 12 bits describe a line.
const PERIOD: usize = 12;

/// `ROW_UNITS[p][y % 12]`: bit `x` (0–11) set where pattern `p` inverts row `y`.
const ROW_UNITS: [[u16; PERIOD]; 8] = units(false);
/// `COL_UNITS[p][x % 12]`: bit `y` (0–11) set where pattern `p` inverts column `x`.
const COL_UNITS: [[u16; PERIOD]; 8] = units(true);

const fn units(columns: bool) -> [[u16; PERIOD]; 8] {
    let mut table = [[0_u16; PERIOD]; 8];
    let mut pattern = 0;
    while pattern < 8 {
        let mut line = 0;
        while line < PERIOD {
            let mut bit = 0;
            while bit < PERIOD {
                let (x, y) = if columns { (line, bit) } else { (bit, line) };
                if inverts(pattern, x, y) {
                    table[pattern][line] |= 1 << bit;
                }
                bit += 1;
            }
            line += 1;
        }
        pattern += 1;
    }
    table
}

/// A 12-bit unit repeated across a whole line.
fn repeat(unit: u16) -> u128 {
    let mut line = u128::from(unit);
    line |= line << 12;
    line |= line << 24;
    line |= line << 48;
    line |= line << 96;
    line
}

/// The lowest `count` bits set.
fn low_bits(count: usize) -> u128 {
    if count >= MAX_WIDTH {
        u128::MAX
    } else {
        (1_u128 << count) - 1
    }
}

/// The 15-bit format information for `ec` and mask `pattern`: BCH(15,5), XOR 0x5412 (§7.9.1).
fn format_bits(ec: EcLevel, pattern: usize) -> u16 {
    let ec_indicator: u16 = match ec {
        EcLevel::L => 0b01,
        EcLevel::M => 0b00,
        EcLevel::Q => 0b11,
        EcLevel::H => 0b10,
    };
    let data = (ec_indicator << 3) | u16::try_from(pattern).unwrap_or(0);
    let mut remainder = data << 10;
    for bit in (10..15).rev() {
        if remainder & (1 << bit) != 0 {
            remainder ^= 0x537 << (bit - 10);
        }
    }
    ((data << 10) | remainder) ^ 0x5412
}

/// Where the format bits go, most significant first, as (x, y); negative counts from the far
/// edge. The same two copies the crate draws.
const FORMAT_MAIN: [(i32, i32); 15] = [
    (0, 8),
    (1, 8),
    (2, 8),
    (3, 8),
    (4, 8),
    (5, 8),
    (7, 8),
    (8, 8),
    (8, 7),
    (8, 5),
    (8, 4),
    (8, 3),
    (8, 2),
    (8, 1),
    (8, 0),
];
const FORMAT_SIDE: [(i32, i32); 15] = [
    (8, -1),
    (8, -2),
    (8, -3),
    (8, -4),
    (8, -5),
    (8, -6),
    (8, -7),
    (-8, 8),
    (-7, 8),
    (-6, 8),
    (-5, 8),
    (-4, 8),
    (-3, 8),
    (-2, 8),
    (-1, 8),
];

/// A canvas with data drawn and no mask yet, as bit-packed rows and columns.
#[derive(Debug, Clone)]
pub struct Unmasked {
    width: usize,
    ec: EcLevel,
    /// Per row, bit `x`: the module is dark before masking.
    row_dark: Vec<u128>,
    /// Per row, bit `x`: the module is data (the mask applies to it).
    row_maskable: Vec<u128>,
    col_dark: Vec<u128>,
    col_maskable: Vec<u128>,
}

/// One masked candidate, format information drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    width: usize,
    pattern: usize,
    rows: Vec<u128>,
    cols: Vec<u128>,
}

impl Unmasked {
    /// Reads the crate's canvas; `None` when the code is too wide for one `u128` per row.
    pub fn read(canvas: &Canvas, width: usize, ec: EcLevel) -> Option<Self> {
        if width == 0 || width > MAX_WIDTH {
            return None;
        }
        let mut unmasked = Self {
            width,
            ec,
            row_dark: vec![0; width],
            row_maskable: vec![0; width],
            col_dark: vec![0; width],
            col_maskable: vec![0; width],
        };
        for y in 0..width {
            for x in 0..width {
                let (dark, maskable) =
                    module_bits(canvas.get(i16::try_from(x).ok()?, i16::try_from(y).ok()?));
                let (row_bit, col_bit) = (1_u128 << x, 1_u128 << y);
                if dark {
                    unmasked.row_dark[y] |= row_bit;
                    unmasked.col_dark[x] |= col_bit;
                }
                if maskable {
                    unmasked.row_maskable[y] |= row_bit;
                    unmasked.col_maskable[x] |= col_bit;
                }
            }
        }
        Some(unmasked)
    }

    /// The code with mask `pattern` (0–7) applied and its format information drawn.
    pub fn masked(&self, pattern: usize) -> Masked {
        let pattern = pattern % 8;
        let line_mask = low_bits(self.width);
        let apply = |dark: &[u128], maskable: &[u128], units: &[u16; PERIOD]| -> Vec<u128> {
            dark.iter()
                .zip(maskable)
                .enumerate()
                .map(|(i, (d, m))| (d ^ (repeat(units[i % PERIOD]) & m)) & line_mask)
                .collect()
        };
        let mut masked = Masked {
            width: self.width,
            pattern,
            rows: apply(&self.row_dark, &self.row_maskable, &ROW_UNITS[pattern]),
            cols: apply(&self.col_dark, &self.col_maskable, &COL_UNITS[pattern]),
        };
        let format = format_bits(self.ec, pattern);
        for coords in [&FORMAT_MAIN, &FORMAT_SIDE] {
            for (index, &(x, y)) in coords.iter().enumerate() {
                masked.set(x, y, format & (1 << (14 - index)) != 0);
            }
        }
        masked.set(8, -8, true); // the dark module
        masked
    }

    /// The candidate with the lowest penalty; the first of equals, as the crate chooses.
    pub fn best(&self) -> Masked {
        let mut best = self.masked(0);
        let mut best_score = best.penalty();
        for pattern in 1..8 {
            let candidate = self.masked(pattern);
            let score = candidate.penalty();
            if score < best_score {
                best = candidate;
                best_score = score;
            }
        }
        best
    }
}

impl Masked {
    fn set(&mut self, x: i32, y: i32, dark: bool) {
        let wrap = |v: i32| {
            usize::try_from(if v < 0 {
                v + i32::try_from(self.width).unwrap_or(0)
            } else {
                v
            })
            .ok()
        };
        let (Some(x), Some(y)) = (wrap(x), wrap(y)) else {
            return;
        };
        let (Some(row), Some(col)) = (self.rows.get_mut(y), self.cols.get_mut(x)) else {
            return;
        };
        if dark {
            *row |= 1 << x;
            *col |= 1 << y;
        } else {
            *row &= !(1 << x);
            *col &= !(1 << y);
        }
    }

    /// The mask pattern number, 0–7.
    pub fn pattern(&self) -> usize {
        self.pattern
    }

    /// The penalty score, rule for rule as the `qrcode` crate computes it.
    pub fn penalty(&self) -> i64 {
        let w = self.width;
        let adjacent: u32 = self
            .rows
            .iter()
            .chain(&self.cols)
            .map(|&line| adjacent_penalty(line, w))
            .sum();
        let blocks: u32 = self
            .rows
            .windows(2)
            .map(|pair| block_penalty(pair[0], pair[1], w))
            .sum();
        let finder_rows: i64 = self.rows.iter().map(|&line| finder_penalty(line, w)).sum();
        let finder_cols: i64 = self.cols.iter().map(|&line| finder_penalty(line, w)).sum();
        let dark: usize = self
            .rows
            .iter()
            .map(|line| line.count_ones())
            .map(|c| usize::try_from(c).unwrap_or(0))
            .sum();
        let ratio = dark * 200 / (w * w);
        let balance = ratio.abs_diff(100);
        i64::from(adjacent)
            + i64::from(blocks)
            + (finder_rows - 360)
            + (finder_cols - 360)
            + i64::try_from(balance).unwrap_or(i64::MAX)
    }

    /// The modules row by row, `true` dark.
    pub fn into_modules(self) -> Vec<bool> {
        let w = self.width;
        self.rows
            .iter()
            .flat_map(|row| (0..w).map(move |x| row & (1 << x) != 0))
            .collect()
    }
}

/// Runs of five or more equal modules: a run of `n` costs `n - 2`.
fn adjacent_penalty(line: u128, width: usize) -> u32 {
    let equal_next = !(line ^ (line >> 1)) & low_bits(width - 1);
    let five = equal_next & (equal_next >> 1) & (equal_next >> 2) & (equal_next >> 3);
    let run_starts = five & !(five << 1);
    five.count_ones() + 2 * run_starts.count_ones()
}

/// 2×2 blocks of one colour: 3 each.
fn block_penalty(upper: u128, lower: u128, width: usize) -> u32 {
    let across_upper = !(upper ^ (upper >> 1));
    let across_lower = !(lower ^ (lower >> 1));
    let down = !(upper ^ lower);
    3 * (across_upper & across_lower & down & low_bits(width - 1)).count_ones()
}

/// Finder-like 1:1:3:1:1 runs without four light modules on at least one side: 40 each.
fn finder_penalty(line: u128, width: usize) -> i64 {
    let mut hits =
        line & !(line >> 1) & (line >> 2) & (line >> 3) & (line >> 4) & !(line >> 5) & (line >> 6);
    hits &= low_bits(width - 6);
    let mut score = 0;
    while hits != 0 {
        let start = usize::try_from(hits.trailing_zeros()).unwrap_or(0);
        hits &= hits - 1;
        let before = low_bits(start) & !low_bits(start.saturating_sub(4));
        let after = low_bits((start + 11).min(width)) & !low_bits(start + 7);
        if line & before == 0 || line & after == 0 {
            score += 40;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qrcode::canvas::MaskPattern;
    use qrcode::types::{Color, Version};

    const PATTERNS: [MaskPattern; 8] = [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ];

    fn canvas(data: &[u8], ec: EcLevel) -> (Canvas, usize) {
        let bits = qrcode::bits::encode_auto(data, ec).unwrap();
        let version = bits.version();
        let (d, e) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).unwrap();
        let mut canvas = Canvas::new(version, ec);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&d, &e);
        (canvas, usize::try_from(version.width()).unwrap())
    }

    fn dark(colors: Vec<Color>) -> Vec<bool> {
        colors.into_iter().map(|c| c == Color::Dark).collect()
    }

    #[test]
    fn every_mask_draws_exactly_what_the_crate_draws_for_every_version_and_level() {
        let mut versions_checked = std::collections::BTreeSet::new();
        for ec in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
            for size in (1..900).step_by(23) {
                let data: Vec<u8> = (0..size)
                    .map(|i| u8::try_from(i * 37 % 251).unwrap())
                    .collect();
                let Ok(bits) = qrcode::bits::encode_auto(&data, ec) else {
                    continue;
                };
                let Version::Normal(version) = bits.version() else {
                    continue;
                };
                let (canvas, width) = canvas(&data, ec);
                let Some(unmasked) = Unmasked::read(&canvas, width, ec) else {
                    assert!(
                        width > MAX_WIDTH,
                        "version {version} should be handled here"
                    );
                    continue;
                };
                versions_checked.insert(version);
                for (number, pattern) in PATTERNS.iter().enumerate() {
                    let mut theirs = canvas.clone();
                    theirs.apply_mask(*pattern);
                    let ours = unmasked.masked(number);
                    assert_eq!(
                        ours.clone().into_modules(),
                        dark(theirs.into_colors()),
                        "{ec:?} {size} {number}"
                    );
                    let transposed: Vec<u128> = (0..width)
                        .map(|x| {
                            (0..width)
                                .filter(|&y| ours.rows[y] & (1 << x) != 0)
                                .fold(0, |c, y| c | 1 << y)
                        })
                        .collect();
                    assert_eq!(transposed, ours.cols);
                }
                assert_eq!(
                    unmasked.best().into_modules(),
                    dark(canvas.apply_best_mask().into_colors())
                );
            }
        }
        assert_eq!(
            versions_checked.into_iter().collect::<Vec<_>>(),
            (1..=27).collect::<Vec<i16>>()
        );
    }

    #[test]
    fn format_bits_match_the_standard_table() {
        assert_eq!(format_bits(EcLevel::M, 0), 0x5412);
        assert_eq!(format_bits(EcLevel::L, 0), 0x77C4);
        assert_eq!(format_bits(EcLevel::H, 7), 0x083B);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn the_chosen_mask_is_the_crates_choice(data in proptest::collection::vec(any::<u8>(), 1..300), level in 0..4_usize) {
            let ec = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H][level];
            let (canvas, width) = canvas(&data, ec);
            let unmasked = Unmasked::read(&canvas, width, ec).unwrap();
            prop_assert_eq!(unmasked.best().into_modules(), dark(canvas.apply_best_mask().into_colors()));
        }
    }
}
