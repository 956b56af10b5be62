//! Level conventions (dBm0) for 16-bit linear PCM.
//!
//! G.711 convention: the largest sine that fits 16 bits is +3.14 dBm0, so a 0 dBm0 sine has the
//! amplitude `32768 * 10^(-3.14/20)`. Power in dBm0 of a block is computed against that sine's
//! mean power (`A^2 / 2`).

/// Peak amplitude of a 0 dBm0 sine in 16-bit linear PCM.
pub const DBM0_SINE_AMPLITUDE: f32 = 22_827.2;

/// Mean power (mean of squares) of a 0 dBm0 sine.
pub const DBM0_POWER: f32 = DBM0_SINE_AMPLITUDE * DBM0_SINE_AMPLITUDE / 2.0;

/// Sine amplitude for a level in dBm0.
pub fn amplitude_for_dbm0(dbm0: f32) -> f32 {
    DBM0_SINE_AMPLITUDE * 10f32.powf(dbm0 / 20.0)
}

/// Mean power (mean of squares) for a level in dBm0.
pub fn power_for_dbm0(dbm0: f32) -> f32 {
    DBM0_POWER * 10f32.powf(dbm0 / 10.0)
}

/// Level in dBm0 of a mean power (mean of squares).
pub fn dbm0_for_power(power: f32) -> f32 {
    10.0 * (power.max(1e-9) / DBM0_POWER).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_points() {
        assert!((amplitude_for_dbm0(3.15) - 32768.0).abs() < 50.0);
        assert!((dbm0_for_power(power_for_dbm0(-25.0)) + 25.0).abs() < 0.01);
    }
}
