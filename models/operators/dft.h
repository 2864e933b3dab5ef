// Truncated DFT and inverse DFT matrices in real form, so a spectral layer runs as plain GEMMs
// Y[M][N] = X[M][K] W[N][K]^T: complex values are (re, im) pairs of adjacent reals.
#pragma once

#include <vector>

namespace mixpe::models {

// The frequencies a truncated transform keeps along one axis of `r` points: 0..m-1, and with
// `two_sided` also the m highest (r-m..r-1, the negative frequencies -m..-1), in that order.
// This is FNO's mode set: low and high rows along every axis but the last, low ones along the
// last (real-to-complex) axis. Requires m >= 1 and 2m <= r (two-sided) or m <= r/2 + 1.
std::vector<int> retained_frequencies(int r, int m, bool two_sided);

// Real -> complex forward DFT of a length-r real line, keeping frequencies 0..m-1:
// W is [2m][r], row 2k = cos(2 pi k n / r), row 2k+1 = -sin(2 pi k n / r), so the output row is
// (Re X_0, Im X_0, Re X_1, ...). No normalization (as torch.fft.rfft / FFTW r2c).
std::vector<float> dft_r2c_matrix(int r, int m);

// Complex -> real inverse of the truncated half spectrum (as irfft with n = r, modes >= m zero):
// x_n = (1/r) sum_k c_k (Re X_k cos - Im X_k sin)(2 pi k n / r), c_k = 1 for k = 0 and the
// Nyquist k = r/2 (their conjugate partners are themselves), else 2 (X_k and X_{r-k} = conj X_k).
// The sin of k = 0 and k = r/2 vanishes at every n, so their imaginary parts drop out as irfft
// drops them. W is [r][2m].
std::vector<float> idft_c2r_matrix(int r, int m);

// Complex -> complex DFT along one axis of r points in real 2x2 block form for the given kept
// frequencies. Forward (exp(-i theta), no normalization): W is [2F][2r], input row
// (Re x_0, Im x_0, Re x_1, ...), output row (Re X_f0, Im X_f0, ...). Inverse (exp(+i theta),
// scaled by 1/r): W is [2r][2F], mapping the kept coefficients back to r complex points.
std::vector<float> dft_c2c_matrix(int r, const std::vector<int>& freqs, bool inverse);

}  // namespace mixpe::models
