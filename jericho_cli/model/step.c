/* Streaming steps on the CPU: one model step of a block at batch size 1..b, as `decode --stream`
 * runs it. A PyTorch step costs ~1 us of dispatch per operation over vectors of 64-256 numbers, so
 * a step of ~150 operations is all overhead; here each block is one call (the role of mamba-ssm's
 * selective_state_update for decoding). The maths are those of Mamba2Layer.step and AttnBlock.step,
 * held equal to them by tests. float32, contiguous, row-major weights (out, in) as nn.Linear keeps them.
 */
#include <math.h>
#include <stdlib.h>

#include "dot.h"

static inline float silu(float v) { return v / (1.0f + expf(-v)); }

/* y[o] = W[o, :] . x for W (out, in). */
static void matvec(const float *W, const float *x, long out, long in, float *y) {
    for (long o = 0; o < out; o++) y[o] = dot(W + o * in, x, in);
}

/* nn.RMSNorm: x / sqrt(mean(x^2) + eps) * w. */
static void rms_norm(const float *x, const float *w, long d, float eps, float *y) {
    float r = 1.0f / sqrtf(dot(x, x, d) / d + eps);
    for (long i = 0; i < d; i++) y[i] = x[i] * r * w[i];
}
/* One streaming step of an SSD block (SSDBlock.step: x + Mamba2Layer.step(rms_norm(x))). In the layer:
 * zxbcdt = in_w u = [z (H P), xBC (H P + 2 G N), dt (H)]; the conv state (conv_dim, Kc) shifts in
 * xBC, depthwise conv + bias + SiLU; dt = softplus(dt + dt_bias); a = exp(dt A), A = -exp(A_log)
 * (2 a - 1 with negative eigenvalues); S = a S + dt x B^T; y = S C + D x; the gated RMSNorm
 * (y silu(z), normalised over groups of `group` channels, times gnorm_w); out_w. Heads h use group
 * h / (H / G). Reads conv_in, S_in; writes conv_out, S_out (Bt, conv_dim, Kc), (Bt, H, P, N), and y. */
int ssd_block_step(long Bt, long d, long H, long P, long N, long G, long Kc, long group, int neg_eig, float eps,
                   float gnorm_eps, const float *x, const float *norm_w, const float *in_w, const float *conv_in,
                   const float *S_in, const float *conv_w, const float *conv_b, const float *dt_bias,
                   const float *A_log, const float *D, const float *gnorm_w, const float *out_w, float *conv_out,
                   float *S_out, float *y) {
    long Di = H * P, Ch = Di + 2 * G * N, row = Di + Ch + H;
    float *buf = malloc(sizeof(float) * (d + row + Ch + Di));
    if (!buf) return 1;
    float *u = buf, *zxbcdt = u + d, *xbc = zxbcdt + row, *yi = xbc + Ch;
    for (long b = 0; b < Bt; b++) {
        rms_norm(x + b * d, norm_w, d, eps, u);
        matvec(in_w, u, row, d, zxbcdt);
        const float *z = zxbcdt, *pre = z + Di, *dtr = pre + Ch;
        const float *ci = conv_in + b * Ch * Kc;
        float *co = conv_out + b * Ch * Kc;
        for (long c = 0; c < Ch; c++) {
            float acc = conv_b ? conv_b[c] : 0.0f;
            for (long k = 0; k + 1 < Kc; k++) {
                co[c * Kc + k] = ci[c * Kc + k + 1];
                acc += co[c * Kc + k] * conv_w[c * Kc + k];
            }
            co[c * Kc + Kc - 1] = pre[c];
            acc += pre[c] * conv_w[c * Kc + Kc - 1];
            xbc[c] = silu(acc);
        }
        const float *xs = xbc, *Bm = xbc + Di, *Cm = Bm + G * N;
        for (long h = 0; h < H; h++) {
            float v = dtr[h] + dt_bias[h];
            float dt = v > 20.0f ? v : log1pf(expf(v));  /* softplus, threshold 20 as in PyTorch */
            float a = expf(dt * -expf(A_log[h]));
            if (neg_eig) a = 2.0f * a - 1.0f;
            const float *Bh = Bm + (h / (H / G)) * N, *Chh = Cm + (h / (H / G)) * N;
            const float *Si = S_in + ((b * H + h) * P) * N;
            float *So = S_out + ((b * H + h) * P) * N;
            for (long p = 0; p < P; p++) {
                float w = dt * xs[h * P + p];
                for (long n = 0; n < N; n++) So[p * N + n] = a * Si[p * N + n] + w * Bh[n];
                yi[h * P + p] = dot(So + p * N, Chh, N) + D[h] * xs[h * P + p];
            }
        }
        for (long s = 0; s < Di; s += group) {
            float ss = 0.0f;
            for (long c = s; c < s + group; c++) {
                yi[c] *= silu(z[c]);
                ss += yi[c] * yi[c];
            }
            float r = 1.0f / sqrtf(ss / group + gnorm_eps);
            for (long c = s; c < s + group; c++) yi[c] = yi[c] * r * gnorm_w[c];
        }
        float *yb = y + b * d;
        matvec(out_w, yi, d, Di, yb);
        for (long i = 0; i < d; i++) yb[i] += x[b * d + i];
    }
    free(buf);
    return 0;
}

/* One streaming step of an attention block (AttnBlock.step): h = x + out(attention(rotary(q), rotary(k),
 * v)) with q, k, v = qkv(rms_norm1(x)), then y = h + fc2(gelu(fc1(rms_norm2(h)))). The new key (rotary
 * applied at position pos[b]) and value go into ring slot `slot` of keys/values (Bt, heads, slots, dh);
 * the query attends to slots 0..seen-1 (seen includes the new one), and to the sink's key/value
 * (heads, dh) each, if given. No biases (the model has none). */
int attn_block_step(long Bt, long d, long heads, long hidden, long slots, long slot, long seen, float base,
                    float eps1, float eps2, const float *x, const float *pos, const float *norm1_w,
                    const float *qkv_w, const float *out_w, const float *norm2_w, const float *fc1_w,
                    const float *fc2_w, const float *sink_k, const float *sink_v, float *keys, float *values,
                    float *y) {
    long dh = d / heads;
    float *buf = malloc(sizeof(float) * (6 * d + hidden + seen + 1));
    if (!buf) return 1;
    float *xn = buf, *qkv = xn + d, *att = qkv + 3 * d, *h = att + d, *hid = h + d, *score = hid + hidden;
    float scale = 1.0f / sqrtf((float)dh);
    for (long b = 0; b < Bt; b++) {
        const float *xb = x + b * d;
        rms_norm(xb, norm1_w, d, eps1, xn);
        matvec(qkv_w, xn, 3 * d, d, qkv);
        for (long hh = 0; hh < heads; hh++) {
            float *q = qkv + hh * dh, *k = qkv + d + hh * dh, *v = qkv + 2 * d + hh * dh;
            for (long j = 0; j < dh / 2; j++) {  /* rotary: pairs (2j, 2j+1) by pos * base^(-2j/dh) */
                float ang = pos[b] * powf(base, -(float)(2 * j) / (float)dh);
                float c = cosf(ang), s = sinf(ang);
                float q1 = q[2 * j], q2 = q[2 * j + 1], k1 = k[2 * j], k2 = k[2 * j + 1];
                q[2 * j] = q1 * c - q2 * s;
                q[2 * j + 1] = q1 * s + q2 * c;
                k[2 * j] = k1 * c - k2 * s;
                k[2 * j + 1] = k1 * s + k2 * c;
            }
            float *K = keys + ((b * heads + hh) * slots) * dh, *V = values + ((b * heads + hh) * slots) * dh;
            for (long i = 0; i < dh; i++) {
                K[slot * dh + i] = k[i];
                V[slot * dh + i] = v[i];
            }
            long m = 0;  /* scores: the sink first, then the cached steps */
            if (sink_k) score[m++] = dot(q, sink_k + hh * dh, dh) * scale;
            for (long t = 0; t < seen; t++) score[m++] = dot(q, K + t * dh, dh) * scale;
            float mx = score[0], sum = 0.0f;
            for (long t = 1; t < m; t++) mx = score[t] > mx ? score[t] : mx;
            for (long t = 0; t < m; t++) sum += (score[t] = expf(score[t] - mx));
            float *o = att + hh * dh;
            for (long i = 0; i < dh; i++) o[i] = 0.0f;
            long t0 = 0;
            if (sink_v) {
                for (long i = 0; i < dh; i++) o[i] += score[0] * sink_v[hh * dh + i];
                t0 = 1;
            }
            for (long t = 0; t < seen; t++)
                for (long i = 0; i < dh; i++) o[i] += score[t0 + t] * V[t * dh + i];
            for (long i = 0; i < dh; i++) o[i] /= sum;
        }
        matvec(out_w, att, d, d, h);
        for (long i = 0; i < d; i++) h[i] += xb[i];
        rms_norm(h, norm2_w, d, eps2, xn);
        matvec(fc1_w, xn, hidden, d, hid);
        for (long i = 0; i < hidden; i++) hid[i] = 0.5f * hid[i] * (1.0f + erff(hid[i] * 0.70710678118654752f));
        float *yb = y + b * d;
        matvec(fc2_w, hid, d, hidden, yb);
        for (long i = 0; i < d; i++) yb[i] += h[i];
    }
    free(buf);
    return 0;
}
