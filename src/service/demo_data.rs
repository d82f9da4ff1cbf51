//! Demo data for `chopay serve --demo`: two real markets of huyện Ba Vì, Hà Nội, filled with
//! synthetic but plausible vendors (names, goods, phones, bank accounts).
//!
//! Everything here is pure and deterministic: a tiny `SplitMix64` generator with a fixed seed per
//! market, no I/O, no clock, no OS randomness. Calling [`demo_markets`] twice gives identical
//! output, so re-seeding a database is idempotent. The people and account numbers are invented.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One demo market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMarket {
    /// URL slug of the market, e.g. `"cho-mo"`.
    pub slug: &'static str,
    /// Display name, e.g. `"Chợ Mơ"`.
    pub name: &'static str,
    /// Commune or township, e.g. `"xã Vạn Thắng"`.
    pub commune: &'static str,
    /// District, `"huyện Ba Vì"`.
    pub district: &'static str,
    /// URL slug of the district, `"ba-vi"`.
    pub district_slug: &'static str,
    /// Province-level city, `"Hà Nội"`.
    pub province: &'static str,
    /// The stalls, in generation order (which is also the sorted order of their codes).
    pub stalls: Vec<DemoStall>,
}

/// One demo stall. Account fields are all Some (linked) or all None (not yet linked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStall {
    /// Row letter and two-digit number, e.g. `"A01"`; unique within the market.
    pub code: String,
    /// Vietnamese full name with diacritics, NFC, e.g. `"Nguyễn Thị Hương"`.
    pub vendor_name: String,
    /// What the stall sells, in Vietnamese, e.g. `"Rau củ"`.
    pub goods: String,
    /// Vietnamese mobile number, 10 digits (`03`/`05`/`07`/`08`/`09`); about 80% present.
    pub phone: Option<String>,
    /// NAPAS BIN of the vendor's bank, e.g. `"970405"` (Agribank).
    pub bank_bin: Option<String>,
    /// Synthetic account number, digits only, of a plausible length for the bank.
    pub account: Option<String>,
    /// Account holder: the vendor name folded to ASCII upper case, e.g. `"NGUYEN THI HUONG"`.
    pub holder: Option<String>,
}

/// A market to generate: metadata, layout (rows × stalls per row), seed, unlinked stalls
/// and one stall given a deliberately long name to exercise text fitting.
struct Spec {
    slug: &'static str,
    name: &'static str,
    commune: &'static str,
    seed: u64,
    rows: usize,
    per_row: usize,
    unlinked: &'static [usize],
    long_name: (usize, &'static str),
}

#[rustfmt::skip]
const SPECS: [Spec; 2] = [
    Spec {
        slug: "cho-mo", name: "Chợ Mơ", commune: "xã Vạn Thắng", seed: 0x4348_4f2d_4d4f_0001,
        rows: 4, per_row: 14, unlinked: &[], long_name: (9, "Khuất Thị Phương Nguyệt Ánh"),
    },
    Spec {
        slug: "cho-quang-oai", name: "Chợ Quảng Oai", commune: "thị trấn Tây Đằng",
        seed: 0x5155_414e_474f_4149, rows: 8, per_row: 41,
        unlinked: &[17, 64, 103, 158, 211, 262, 309],
        long_name: (126, "Đỗ Nguyễn Hoàng Phương Thảo"),
    },
];

const ROW_LETTERS: [char; 8] = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

#[rustfmt::skip]
const FAMILY_NAMES: &[(&str, u64)] = &[
    ("Nguyễn", 30), ("Trần", 7), ("Lê", 6), ("Phạm", 5), ("Hoàng", 4), ("Huỳnh", 1),
    ("Phan", 3), ("Vũ", 4), ("Võ", 1), ("Đặng", 3), ("Bùi", 4), ("Đỗ", 4), ("Hồ", 2),
    ("Ngô", 3), ("Dương", 2), ("Lý", 1), ("Đinh", 3), ("Khuất", 7), ("Kiều", 6), ("Phùng", 4),
];
#[rustfmt::skip]
const FEMALE_MIDDLE: &[(&str, u64)] =
    &[("Thị", 14), ("Ngọc", 2), ("Thu", 2), ("Hồng", 1), ("Thanh", 1)];
#[rustfmt::skip]
const MALE_MIDDLE: &[(&str, u64)] = &[
    ("Văn", 10), ("Đức", 3), ("Minh", 3), ("Quang", 2), ("Hữu", 2), ("Ngọc", 1), ("Thanh", 1),
    ("Hồng", 1),
];
const SECOND_MIDDLE: &[&str] = &["Thu", "Ngọc", "Hồng", "Thanh", "Phương", "Kim", "Minh"];
#[rustfmt::skip]
const FEMALE_GIVEN: &[&str] = &[
    "Hương", "Lan", "Hoa", "Mai", "Nga", "Hạnh", "Thủy", "Loan", "Hằng", "Huyền", "Tuyết",
    "Nhung", "Hiền", "Phượng", "Oanh", "Nguyệt", "Thoa", "Liên", "Yến", "Dung", "Huệ", "Xuân",
    "Thảo", "Ánh", "Dậu",
];
#[rustfmt::skip]
const MALE_GIVEN: &[&str] = &[
    "Hùng", "Dũng", "Tuấn", "Cường", "Thắng", "Quý", "Lực", "Tiến", "Sơn", "Bình", "Dậu",
    "Toàn", "Long", "Hải", "Hiếu", "Khánh", "Chiến", "Thành", "Quyết", "Vượng",
];
#[rustfmt::skip]
const GOODS: &[(&str, u64)] = &[
    ("Rau củ", 14), ("Thịt lợn", 9), ("Cá đồng", 5), ("Gạo, đồ khô", 6), ("Hoa quả", 9),
    ("Quần áo", 8), ("Bún, phở", 5), ("Đậu phụ", 4), ("Gà vịt", 5), ("Hàng tạp hóa", 8),
    ("Thịt bò", 3), ("Giày dép", 3), ("Trứng", 3), ("Bánh kẹo", 3), ("Đồ nhựa, gia dụng", 3),
    ("Chè, nước giải khát", 2), ("Sữa Ba Vì", 2), ("Măng, mộc nhĩ", 2), ("Thuốc nam", 2),
    ("Hoa tươi", 2), ("Bánh cuốn", 2), ("Xôi, bánh chưng", 2),
];
#[rustfmt::skip]
const PHONE_PREFIXES: &[&str] = &[
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076", "077",
    "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093",
    "094", "096", "097", "098",
];

/// Banks the demo vendors use: NAPAS BIN, relative weight, possible account lengths.
#[rustfmt::skip]
const BANKS: &[(&str, u64, &[usize])] = &[
    ("970405", 38, &[13]),             // Agribank: the bank of rural Ba Vì
    ("970418", 12, &[12, 13, 14]),     // BIDV
    ("970436", 10, &[10, 13]),         // Vietcombank
    ("970415", 10, &[12]),             // VietinBank
    ("970422", 12, &[10, 11, 12, 13]), // MB Bank
    ("970407", 6, &[14]),              // Techcombank
    ("970432", 4, &[9, 10]),           // VPBank
    ("970403", 3, &[12]),              // Sacombank
    ("971025", 5, &[10]),              // MoMo: the wallet number is phone-like, "09…"
];
const MOMO_BIN: &str = "971025";

/// `SplitMix64`: tiny, fast, and good enough for plausible-looking synthetic data.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let bound = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % bound).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Index into `weights`, chosen with probability proportional to its weight.
    pub(crate) fn weighted(&mut self, weights: impl Iterator<Item = u64> + Clone) -> usize {
        let mut roll = self.next_u64() % weights.clone().sum::<u64>().max(1);
        let mut last = 0;
        for (index, weight) in weights.enumerate() {
            if roll < weight {
                return index;
            }
            roll -= weight;
            last = index;
        }
        last
    }

    fn pick_weighted<'a>(&mut self, items: &[(&'a str, u64)]) -> &'a str {
        items[self.weighted(items.iter().map(|&(_, weight)| weight))].0
    }

    /// `count` random decimal digits.
    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from_digit(u32::try_from(self.next_u64() % 10).unwrap_or(0), 10))
            .map(|digit| digit.unwrap_or('0'))
            .collect()
    }
}

/// ASCII upper-case fold of a Vietnamese name: `"Nguyễn Thị Hương"` → `"NGUYEN THI HUONG"`.
fn fold_upper(text: &str) -> String {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .filter(char::is_ascii)
        .collect();
    folded.to_ascii_uppercase()
}

fn vendor_name(rng: &mut Rng) -> String {
    let family = rng.pick_weighted(FAMILY_NAMES);
    let name = if rng.below(100) < 62 {
        let middle = rng.pick_weighted(FEMALE_MIDDLE);
        let given = rng.pick(FEMALE_GIVEN);
        if middle == "Thị" && rng.below(100) < 12 {
            let second = rng.pick(SECOND_MIDDLE);
            format!("{family} {middle} {second} {given}")
        } else {
            format!("{family} {middle} {given}")
        }
    } else {
        let (middle, given) = (rng.pick_weighted(MALE_MIDDLE), rng.pick(MALE_GIVEN));
        format!("{family} {middle} {given}")
    };
    name.nfc().collect()
}

/// A bank BIN and a synthetic account number of a plausible length for that bank.
fn account(rng: &mut Rng) -> (String, String) {
    let (bin, _, lengths) = BANKS[rng.weighted(BANKS.iter().map(|&(_, weight, _)| weight))];
    let length = lengths[rng.below(lengths.len())];
    let number = if bin == MOMO_BIN {
        format!("09{}", rng.digits(length.saturating_sub(2)))
    } else {
        let first = 1 + rng.below(9);
        format!("{first}{}", rng.digits(length.saturating_sub(1)))
    };
    (bin.to_owned(), number)
}

fn stall(spec: &Spec, rng: &mut Rng, index: usize) -> DemoStall {
    let row = ROW_LETTERS[(index / spec.per_row) % ROW_LETTERS.len()];
    let number = index % spec.per_row + 1;
    // Every stall draws the same values in the same order, linked or not, so changing one
    // stall never reshuffles the others.
    let mut vendor_name = vendor_name(rng);
    if index == spec.long_name.0 {
        vendor_name = spec.long_name.1.nfc().collect();
    }
    let goods = rng.pick_weighted(GOODS).to_owned();
    let has_phone = rng.below(100) < 80;
    let phone = format!("{}{}", rng.pick(PHONE_PREFIXES), rng.digits(7));
    let (bin, account) = account(rng);
    let linked = !spec.unlinked.contains(&index);
    DemoStall {
        code: format!("{row}{number:02}"),
        holder: linked.then(|| fold_upper(&vendor_name)),
        vendor_name,
        goods,
        phone: has_phone.then_some(phone),
        bank_bin: linked.then_some(bin),
        account: linked.then_some(account),
    }
}

/// The two markets of the demo: Chợ Mơ (56 stalls, all linked) and Chợ Quảng Oai (328 stalls,
/// 321 linked, 7 not). Deterministic: every call returns the same data.
#[must_use]
pub fn demo_markets() -> Vec<DemoMarket> {
    SPECS
        .iter()
        .map(|spec| {
            let mut rng = Rng(spec.seed);
            DemoMarket {
                slug: spec.slug,
                name: spec.name,
                commune: spec.commune,
                district: "huyện Ba Vì",
                district_slug: "ba-vi",
                province: "Hà Nội",
                stalls: (0..spec.rows * spec.per_row)
                    .map(|index| stall(spec, &mut rng, index))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn all_stalls() -> Vec<DemoStall> {
        demo_markets().into_iter().flat_map(|m| m.stalls).collect()
    }

    fn is_digits(text: &str) -> bool {
        text.bytes().all(|b| b.is_ascii_digit())
    }

    fn linked_flags(market: &DemoMarket) -> Vec<bool> {
        market.stalls.iter().map(|s| s.account.is_some()).collect()
    }

    #[test]
    fn cho_mo_has_56_linked_stalls_and_quang_oai_328_of_which_321_linked() {
        let markets = demo_markets();
        let summary: Vec<_> = markets
            .iter()
            .map(|m| (m.slug, m.name, m.commune, m.stalls.len()))
            .collect();
        assert_eq!(summary[0], ("cho-mo", "Chợ Mơ", "xã Vạn Thắng", 56));
        let quang_oai = ("cho-quang-oai", "Chợ Quảng Oai", "thị trấn Tây Đằng", 328);
        assert_eq!(summary[1], quang_oai);
        let linked = |m: &DemoMarket| linked_flags(m).into_iter().filter(|&l| l).count();
        assert_eq!((linked(&markets[0]), linked(&markets[1])), (56, 321));
        let ba_vi = ("huyện Ba Vì", "ba-vi", "Hà Nội");
        for m in &markets {
            assert_eq!((m.district, m.district_slug, m.province), ba_vi);
        }
    }

    #[test]
    fn account_fields_are_all_some_or_all_none() {
        for s in all_stalls() {
            let linked = s.account.is_some();
            assert_eq!(s.bank_bin.is_some(), linked, "{s:?}");
            assert_eq!(s.holder.is_some(), linked, "{s:?}");
        }
    }

    #[test]
    fn the_seven_unlinked_stalls_are_spread_through_the_list_not_all_at_the_end() {
        let flags = linked_flags(&demo_markets()[1]);
        let unlinked: Vec<usize> = (0..flags.len()).filter(|&i| !flags[i]).collect();
        assert_eq!(unlinked.len(), 7);
        assert!(unlinked[0] < flags.len() / 4, "{unlinked:?}");
        assert!(unlinked.windows(2).all(|w| w[1] - w[0] > 10));
    }

    #[test]
    fn stall_codes_are_unique_well_formed_and_sorted_in_generation_order() {
        for market in demo_markets() {
            let codes: Vec<&str> = market.stalls.iter().map(|s| s.code.as_str()).collect();
            assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len());
            assert!(codes.is_sorted(), "{codes:?}");
            for code in codes {
                let (row, number) = code.split_at(1);
                assert!(("A"..="H").contains(&row), "{code}");
                assert!(number.len() == 2 && is_digits(number), "{code}");
                assert!(("01"..="50").contains(&number), "{code}");
            }
        }
    }

    #[test]
    fn vendor_names_are_nfc_varied_with_stacked_diacritics_and_some_long_ones() {
        let stalls = all_stalls();
        let names: Vec<&str> = stalls.iter().map(|s| s.vendor_name.as_str()).collect();
        for name in &names {
            assert_eq!(name.nfc().collect::<String>(), *name);
            assert!(name.split(' ').count() >= 3, "{name}");
        }
        assert!(names.iter().filter(|n| !n.is_ascii()).count() > names.len() * 9 / 10);
        let long = "Khuất Thị Phương Nguyệt Ánh";
        for needle in ["ễ", "ậ", "ượ", "Khuất ", "Kiều ", long] {
            assert!(names.iter().any(|n| n.contains(needle)), "{needle}");
        }
        assert!(names.iter().filter(|n| n.split(' ').count() >= 4).count() >= 5);
        let distinct: HashSet<&&str> = names.iter().collect();
        assert!(distinct.len() > names.len() * 3 / 4, "{}", distinct.len());
        let goods: HashSet<&String> = stalls.iter().map(|s| &s.goods).collect();
        assert!(goods.len() >= 15);
    }

    #[test]
    fn holder_is_the_ascii_upper_case_fold_of_the_vendor_name() {
        assert_eq!(fold_upper("Nguyễn Thị Hương"), "NGUYEN THI HUONG");
        assert_eq!(fold_upper("Đặng Văn Dậu"), "DANG VAN DAU");
        assert_eq!(fold_upper("Đỗ Hoàng Phương Thảo"), "DO HOANG PHUONG THAO");
        for s in all_stalls() {
            let Some(holder) = s.holder else { continue };
            let upper = |b: u8| b == b' ' || b.is_ascii_uppercase();
            assert!(holder.bytes().all(upper), "{holder}");
            assert_eq!(holder, fold_upper(&s.vendor_name));
            assert_eq!(holder.split(' ').count(), s.vendor_name.split(' ').count());
        }
    }

    #[test]
    fn phones_are_ten_digit_mobiles_present_about_80_percent_of_the_time() {
        let stalls = all_stalls();
        let phones: Vec<&String> = stalls.iter().filter_map(|s| s.phone.as_ref()).collect();
        for phone in &phones {
            assert!(phone.len() == 10 && is_digits(phone), "{phone}");
            let prefixes = ["03", "05", "07", "08", "09"];
            assert!(prefixes.contains(&&phone[..2]), "{phone}");
        }
        let percent = phones.len() * 100 / stalls.len();
        assert!((75..=85).contains(&percent), "{percent}%");
    }

    #[test]
    fn account_numbers_are_digits_of_a_plausible_length_for_their_bank() {
        for s in all_stalls() {
            let Some((bin, account)) = s.bank_bin.zip(s.account) else {
                continue;
            };
            let lengths: &[usize] = match bin.as_str() {
                "970405" => &[13],
                "970418" => &[12, 13, 14],
                "970436" => &[10, 13],
                "970415" | "970403" => &[12],
                "970422" => &[10, 11, 12, 13],
                "970407" => &[14],
                "970432" => &[9, 10],
                "971025" => &[10],
                other => panic!("unexpected BIN {other}"),
            };
            assert!(lengths.contains(&account.len()), "{bin} {account}");
            assert!(is_digits(&account), "{account}");
            assert!(bin != MOMO_BIN || account.starts_with("09"), "{account}");
        }
    }

    #[test]
    fn at_least_six_distinct_bins_are_used_and_agribank_is_the_most_common() {
        let stalls = all_stalls();
        let bins: Vec<&str> = stalls
            .iter()
            .filter_map(|s| s.bank_bin.as_ref())
            .map(String::as_str)
            .collect();
        let count = |bin: &str| bins.iter().filter(|&&b| b == bin).count();
        let distinct: HashSet<&str> = bins.iter().copied().collect();
        assert!(distinct.len() >= 6, "{distinct:?}");
        assert!(distinct.iter().all(|&b| count("970405") >= count(b)));
    }

    #[test]
    fn demo_markets_are_deterministic() {
        assert_eq!(demo_markets(), demo_markets());
    }

    proptest! {
        #[test]
        fn below_stays_in_range(seed in any::<u64>(), n in 1_usize..10_000) {
            let mut rng = Rng(seed);
            for _ in 0..16 {
                prop_assert!(rng.below(n) < n);
            }
        }
    }
}
