//! Pure domain: values that cannot be invalid once they exist, and the codecs between them and
//! their wire forms. No I/O, no clock, no database, no HTTP: everything here is deterministic and
//! property-tested.

pub mod access;
pub mod adoption;
pub mod credit;
pub mod day;
pub mod digits;
pub mod fold;
pub mod market;
pub mod matching;
pub mod money;
pub mod order;
pub mod poster;
pub mod reference;
pub mod stall;
pub mod stats;
pub mod text;
pub mod vietqr;
pub mod words;
