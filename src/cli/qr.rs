//! `chopay qr encode` and `chopay qr decode`.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::CliError;
use crate::domain::money::Vnd;
use crate::domain::vietqr::{self, Service, VietQr, VietQrFields, banks};
use crate::qr::{self, EcLevel, Layout, QrMatrix};

#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Make a VietQR for a bank account: static without --amount, dynamic with it.
    Encode(Box<EncodeArgs>),
    /// Read any VietQR (or other EMVCo QR) payload and print its fields as JSON.
    Decode(DecodeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The payload text, as a bank app reads it.
    Payload,
    /// An SVG image of the code.
    Svg,
    /// A PNG image of the code.
    Png,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("payee_bank").required(true).args(["bin", "bank"]))]
pub struct EncodeArgs {
    /// The payee bank's 6-digit NAPAS BIN (e.g. 970436 for Vietcombank).
    #[arg(long)]
    bin: Option<String>,
    /// The payee bank by code, short name or keyword (VCB, "MB Bank", agribank).
    #[arg(long)]
    bank: Option<String>,
    /// Account or card number.
    #[arg(long)]
    account: String,
    /// What the number is.
    #[arg(long, default_value = "account", value_parser = parse_service)]
    service: Service,
    /// Amount in đồng (50000, 50.000đ, 50k): makes the code dynamic (one sale).
    #[arg(long, value_parser = parse_amount)]
    amount: Option<Vnd>,
    /// Transfer content bank apps pre-fill (62.08); Vietnamese is folded to ASCII.
    #[arg(long)]
    purpose: Option<String>,
    /// Bill number (62.01).
    #[arg(long)]
    bill: Option<String>,
    /// Reference label (62.05).
    #[arg(long)]
    reference_label: Option<String>,
    /// Store label (62.03).
    #[arg(long)]
    store_label: Option<String>,
    /// Terminal label (62.07).
    #[arg(long)]
    terminal_label: Option<String>,
    /// Mobile number (62.02).
    #[arg(long)]
    mobile: Option<String>,
    /// Merchant name (59).
    #[arg(long)]
    merchant_name: Option<String>,
    /// Merchant city (60).
    #[arg(long)]
    merchant_city: Option<String>,
    /// Merchant category code (52), 4 digits.
    #[arg(long)]
    mcc: Option<String>,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = Format::Payload)]
    format: Format,
    /// Error correction for images: L, M, Q or H.
    #[arg(long, default_value = "M", value_parser = parse_ec_level)]
    ec_level: EcLevel,
    /// Pixels per module in images.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    module_px: u32,
    /// Light modules around the code in images (the standard asks for 4).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    quiet_zone: u32,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The payload text, or - to read it from standard input.
    payload: String,
}

fn parse_service(text: &str) -> Result<Service, String> {
    text.parse()
}

fn parse_amount(text: &str) -> Result<Vnd, String> {
    Vnd::parse(text).map_err(|e| e.to_string())
}

fn parse_ec_level(text: &str) -> Result<EcLevel, String> {
    text.parse()
}

pub fn run(command: QrCommand) -> Result<(), CliError> {
    match command {
        QrCommand::Encode(args) => encode(*args),
        QrCommand::Decode(args) => decode(&args),
    }
}

fn encode(args: EncodeArgs) -> Result<(), CliError> {
    let bin = match (args.bin, args.bank) {
        (Some(bin), _) => bin,
        (None, Some(bank)) => banks::directory()
            .resolve_bin(&bank)
            .map_err(|e| CliError::Input(e.to_string()))?,
        (None, None) => {
            return Err(CliError::Input(
                "give the payee bank with --bin or --bank".into(),
            ));
        }
    };
    let code = VietQr::new(VietQrFields {
        bin,
        account: args.account,
        service: args.service,
        amount: args.amount,
        mcc: args.mcc,
        merchant_name: args.merchant_name,
        merchant_city: args.merchant_city,
        bill_number: args.bill,
        mobile: args.mobile,
        store_label: args.store_label,
        reference_label: args.reference_label,
        terminal_label: args.terminal_label,
        purpose: args.purpose,
    })
    .map_err(|e| CliError::Input(e.to_string()))?;
    let payload = code.payload();
    let layout = Layout {
        module_px: args.module_px,
        quiet_zone: args.quiet_zone,
    };
    let image = |payload: &str| {
        QrMatrix::encode(payload.as_bytes(), args.ec_level)
            .map_err(|e| CliError::Input(e.to_string()))
    };
    let bytes = match args.format {
        Format::Payload => format!("{payload}\n").into_bytes(),
        Format::Svg => qr::svg::render(&image(&payload)?, layout).into_bytes(),
        Format::Png => {
            if args.output.is_none() && std::io::stdout().is_terminal() {
                return Err(CliError::Input(
                    "a PNG is binary: give -o FILE or redirect standard output".into(),
                ));
            }
            qr::png::render(&image(&payload)?, layout).map_err(|e| CliError::Io(e.to_string()))?
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display()))),
        None => std::io::stdout()
            .lock()
            .write_all(&bytes)
            .map_err(|e| CliError::Io(format!("cannot write to standard output: {e}"))),
    }
}

fn decode(args: &DecodeArgs) -> Result<(), CliError> {
    let payload = if args.payload == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::Input(format!("cannot read standard input as UTF-8 text: {e}"))
            })?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        args.payload.clone()
    };
    let decoded = vietqr::decode(&payload)
        .map_err(|e| CliError::Input(format!("invalid QR payload: {e}")))?;
    let json = serde_json::to_string_pretty(&decoded).map_err(|e| CliError::Io(e.to_string()))?;
    println!("{json}");
    Ok(())
}
