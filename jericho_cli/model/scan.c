/* The SSD recurrence on the CPU, forward and backward, one (batch, head) at a time in step order:
 *
 *     S_t = a_t S_{t-1} + u_t B_t^T        (S: P x N per head; a_t a scalar per head and step)
 *     y_t = S_t C_t
 *
 * u = dt * x and a = exp(dt A) (or 2 exp(dt A) - 1) come from PyTorch, which differentiates them;
 * this file only runs the recurrence. On a CPU it costs O(L P N) per head, with no chunk-length
 * factor, where the chunked form (built for GPUs) does O(L Q (P + N)) in many small operations.
 * The backward pass recomputes the states of K steps at a time from checkpoints the forward pass
 * stored every K steps, so memory is O(L / K) states, not O(L). Fixed loop order: deterministic.
 * Layouts (contiguous, float32): u, y (Bt, L, H, P); a (Bt, L, H); Bm, Cm (Bt, L, G, N);
 * states (Bt, H, P, N); checkpoints (Bt, H, ceil(L / K), P, N). Heads h use group h / (H / G).
 */
#include <stdlib.h>
#include <string.h>

#include "dot.h"

#define K 32

static long nseg(long L) { return (L + K - 1) / K; }

long ssd_scan_checkpoints(long L) { return nseg(L); }

void ssd_scan_forward(long Bt, long L, long H, long P, long N, long G, const float *u, const float *a,
                      const float *Bm, const float *Cm, const float *S0, float *y, float *S_final,
                      float *ckpt) {
    long R = H / G;
    for (long b = 0; b < Bt; b++) {
        for (long h = 0; h < H; h++) {
            long g = h / R;
            float *S = S_final + (b * H + h) * P * N;
            if (S0) memcpy(S, S0 + (b * H + h) * P * N, sizeof(float) * P * N);
            else memset(S, 0, sizeof(float) * P * N);
            for (long t = 0; t < L; t++) {
                if (t % K == 0) memcpy(ckpt + ((b * H + h) * nseg(L) + t / K) * P * N, S, sizeof(float) * P * N);
                float at = a[(b * L + t) * H + h];
                const float *ut = u + ((b * L + t) * H + h) * P;
                const float *Bt_ = Bm + ((b * L + t) * G + g) * N;
                const float *Ct = Cm + ((b * L + t) * G + g) * N;
                float *yt = y + ((b * L + t) * H + h) * P;
                for (long p = 0; p < P; p++) {
                    float *Sp = S + p * N, up = ut[p];
                    for (long n = 0; n < N; n++) Sp[n] = at * Sp[n] + up * Bt_[n];
                    yt[p] = dot(Sp, Ct, N);
                }
            }
        }
    }
}

/* Gradients: du, da, dS0 are written; dB, dC are accumulated over the heads of a group (zeroed by
 * the caller). dS_final may be NULL (no gradient on the final state). */
int ssd_scan_backward(long Bt, long L, long H, long P, long N, long G, const float *u, const float *a,
                      const float *Bm, const float *Cm, const float *ckpt, const float *dy,
                      const float *dS_final, float *du, float *da, float *dB, float *dC, float *dS0) {
    long R = H / G;
    float *buf = malloc(sizeof(float) * (K + 1) * P * N);  /* buf[0]: state before the segment */
    float *dS = malloc(sizeof(float) * P * N);
    if (!buf || !dS) { free(buf); free(dS); return 1; }
    for (long b = 0; b < Bt; b++) {
        for (long h = 0; h < H; h++) {
            long g = h / R;
            if (dS_final) memcpy(dS, dS_final + (b * H + h) * P * N, sizeof(float) * P * N);
            else memset(dS, 0, sizeof(float) * P * N);
            for (long s = nseg(L) - 1; s >= 0; s--) {
                long t0 = s * K, t1 = t0 + K < L ? t0 + K : L;
                memcpy(buf, ckpt + ((b * H + h) * nseg(L) + s) * P * N, sizeof(float) * P * N);
                for (long t = t0; t < t1; t++) {  /* recompute the segment's states */
                    float at = a[(b * L + t) * H + h];
                    const float *ut = u + ((b * L + t) * H + h) * P;
                    const float *Bt_ = Bm + ((b * L + t) * G + g) * N;
                    const float *prev = buf + (t - t0) * P * N;
                    float *cur = buf + (t - t0 + 1) * P * N;
                    for (long p = 0; p < P; p++)
                        for (long n = 0; n < N; n++) cur[p * N + n] = at * prev[p * N + n] + ut[p] * Bt_[n];
                }
                for (long t = t1 - 1; t >= t0; t--) {
                    float at = a[(b * L + t) * H + h];
                    const float *ut = u + ((b * L + t) * H + h) * P;
                    const float *Bt_ = Bm + ((b * L + t) * G + g) * N;
                    const float *Ct = Cm + ((b * L + t) * G + g) * N;
                    const float *dyt = dy + ((b * L + t) * H + h) * P;
                    const float *St = buf + (t - t0 + 1) * P * N, *Sprev = buf + (t - t0) * P * N;
                    float *dBt = dB + ((b * L + t) * G + g) * N, *dCt = dC + ((b * L + t) * G + g) * N;
                    float *dut = du + ((b * L + t) * H + h) * P;
                    float dat = 0.0f;
                    for (long p = 0; p < P; p++) {  /* y_t = S_t C_t: into dS (now dL/dS_t) and dC */
                        float *dSp = dS + p * N;
                        const float *Sp = St + p * N;
                        float dyp = dyt[p];
                        for (long n = 0; n < N; n++) {
                            dSp[n] += dyp * Ct[n];
                            dCt[n] += dyp * Sp[n];
                        }
                    }
                    for (long p = 0; p < P; p++) {  /* S_t = a_t S_{t-1} + u_t B_t */
                        float *dSp = dS + p * N;
                        float up = ut[p];
                        dat += dot(dSp, Sprev + p * N, N);
                        dut[p] = dot(dSp, Bt_, N);
                        for (long n = 0; n < N; n++) {
                            dBt[n] += dSp[n] * up;
                            dSp[n] *= at;
                        }
                    }
                    da[(b * L + t) * H + h] = dat;
                }
            }
            memcpy(dS0 + (b * H + h) * P * N, dS, sizeof(float) * P * N);
        }
    }
    free(buf);
    free(dS);
    return 0;
}

/* The layer's depthwise causal convolution over (Bt, L, Ch): out[t, c] = bias[c] + sum_k w[k, c]
 * x[t - (Kc - 1) + k, c], zero before the start; w is (Kc, Ch) (the conv1d weight transposed), so
 * every inner loop runs over contiguous channels. */
void causal_conv_forward(long Bt, long L, long Ch, long Kc, const float *x, const float *w, const float *bias,
                         float *out) {
    for (long b = 0; b < Bt; b++)
        for (long t = 0; t < L; t++) {
            float *o = out + (b * L + t) * Ch;
            for (long c = 0; c < Ch; c++) o[c] = bias ? bias[c] : 0.0f;
            for (long k = 0; k < Kc; k++) {
                long s = t - (Kc - 1) + k;
                if (s < 0) continue;
                const float *xs = x + (b * L + s) * Ch, *wk = w + k * Ch;
                for (long c = 0; c < Ch; c++) o[c] += wk[c] * xs[c];
            }
        }
}

/* dx is written; dw (Kc, Ch) and dbias (Ch, may be NULL) are zeroed by the caller and accumulated. */
void causal_conv_backward(long Bt, long L, long Ch, long Kc, const float *x, const float *w, const float *dout,
                          float *dx, float *dw, float *dbias) {
    for (long b = 0; b < Bt; b++)
        for (long s = 0; s < L; s++) {
            float *d = dx + (b * L + s) * Ch;
            const float *xs = x + (b * L + s) * Ch;
            for (long c = 0; c < Ch; c++) d[c] = 0.0f;
            for (long k = 0; k < Kc; k++) {
                long t = s + (Kc - 1) - k;  /* the output step that read x[s] through w[k] */
                if (t >= L) continue;
                const float *g = dout + (b * L + t) * Ch, *wk = w + k * Ch;
                float *dwk = dw + k * Ch;
                for (long c = 0; c < Ch; c++) {
                    d[c] += g[c] * wk[c];
                    dwk[c] += g[c] * xs[c];
                }
            }
            if (dbias) {
                const float *g = dout + (b * L + s) * Ch;
                for (long c = 0; c < Ch; c++) dbias[c] += g[c];
            }
        }
}
