package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.matmul.Int8Activations;
import dev.offramp.kernels.cpu.matmul.Int8Scheme;
import dev.offramp.kernels.cpu.matmul.MatmulKernel;
import dev.offramp.kernels.cpu.ops.CpuOps;

import java.lang.foreign.MemorySegment;

/**
 * The CPU {@link Backend}: Vector API kernels (or their scalar twins), heap activations, a heap KV
 * cache, and a fixed {@link WorkerPool} that splits matmul rows and attention heads across threads.
 *
 * <pre>{@code
 * try (Backend cpu = new CpuBackend()) {                       // one thread per core, preferred SIMD width
 *     Weight w = cpu.prepare(tensor);
 *     Activations x = cpu.allocate(1, (int) w.cols()), y = cpu.allocate(1, (int) w.rows());
 *     cpu.matmul(w, x, 1, y);
 * }
 * }</pre>
 * Tests force a width ({@code new CpuBackend(2, VectorWidth.bits(256))}) or scalar kernels
 * ({@link VectorWidth#SCALAR}). Without {@code --add-modules jdk.incubator.vector} the scalar kernels
 * serve and one warning is logged.
 *
 * <p>Thread safety: ops on distinct activations and caches may run concurrently from several threads;
 * each calling thread gets its own reusable parallel-loop state, so dispatch allocates nothing.
 */
public final class CpuBackend implements Backend {
    /** Multiply-adds below which an op runs on the calling thread alone. */
    private static final long PARALLEL_MIN_WORK = 1 << 16;

    private final long parallelMinWork;
    /** Far above any useful count (one per core); guards against a typo like {@code -t 1000000}. */
    public static final int MAX_THREADS = 1024;
    private final WorkerPool pool;
    private final KernelSet kernels;
    private final CpuOps ops;
    private final ThreadLocal<Caller> callers;

    /** One thread per core, preferred SIMD width. */
    public CpuBackend() {
        this(0);
    }

    /** {@code threads} workers in all (0 = one per core), preferred SIMD width. */
    public CpuBackend(int threads) {
        this(threads, VectorWidth.PREFERRED);
    }

    /** {@code threads} workers in all (0 = one per core) at a given SIMD width. */
    public CpuBackend(int threads, VectorWidth width) {
        this(threads, width, PARALLEL_MIN_WORK);
    }

    /** Tests pass {@code parallelMinWork = 0} so that even tiny ops are split across the workers. */
    CpuBackend(int threads, VectorWidth width, long parallelMinWork) {
        this.parallelMinWork = parallelMinWork;
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = one per core), got " + threads);
        }
        if (threads > MAX_THREADS) {
            // each worker is a platform thread with its own stack: an absurd count would exhaust
            // native memory (an OutOfMemoryError on some unrelated thread) instead of failing here
            throw new IllegalArgumentException("threads must be at most " + MAX_THREADS + ", got " + threads);
        }
        int n = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        if (width.isScalar()) {
            kernels = new ScalarKernelSet();
        } else if (!VectorAvailability.moduleLoaded()) {
            VectorAvailability.warnScalarFallback();
            kernels = new ScalarKernelSet();
        } else {
            kernels = VectorKernelSet.create(width.bits());
        }
        ops = kernels.ops();
        pool = new WorkerPool(n);
        callers = ThreadLocal.withInitial(() -> new Caller(pool.newJob()));
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String describe() {
        return "cpu: " + pool.parallelism() + " threads, " + kernels.describe();
    }

    @Override
    public int threads() {
        return pool.parallelism();
    }

    /** True when the Vector API kernels are in use. */
    public boolean vectorized() {
        return kernels.vectorized();
    }

    @Override
    public Weight prepare(Tensor tensor) {
        ensureOpen();
        if (tensor.cols() > Integer.MAX_VALUE || tensor.rows() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + tensor + " is too large for the CPU backend: rows and"
                    + " row length must each be below 2^31");
        }
        float[] vector = null;
        if (tensor.rank() <= 1 && RowDecoder.supports(tensor.type())) {
            vector = RowDecoder.decodeAll(tensor);
        }
        MatmulKernel kernel = tensor.rank() >= 2 ? kernels.matmul(tensor) : null;

        return new CpuWeight(tensor, kernel, vector);
    }

    @Override
    public Activations allocate(int rows, int cols) {
        ensureOpen();
        return new CpuActivations(rows, cols);
    }

    @Override
    public KvCache allocateKvCache(int layers, int capacity, int kvDim, DType dtype) {
        ensureOpen();
        return new CpuKvCache(layers, capacity, kvDim, dtype);
    }

    @Override
    public void embed(Weight table, int[] tokens, int n, Activations out) {
        ensureOpen();
        CpuWeight w = weight(table);
        CpuActivations o = act(out, "out");
        checkRows(n, o, "out");
        if (tokens.length < n) {
            throw new IllegalArgumentException("embed: " + n + " rows asked but only " + tokens.length + " tokens given");
        }
        if (o.cols() != w.cols) {
            throw new IllegalArgumentException("embed: table " + w.source().name() + " has rows of " + w.cols
                    + " but out has " + o.cols() + " columns");
        }
        long vocab = w.source().rows();
        for (int t = 0; t < n; t++) {
            int tok = tokens[t];
            if (tok < 0 || tok >= vocab) {
                throw new IndexOutOfBoundsException("embed: token " + tok + " at " + t + " is outside the "
                        + vocab + " rows of " + w.source().name());
            }
            RowDecoder.decodeRow(w.source(), tok, o.data, t * o.cols());
        }
    }

    @Override
    public void matmul(Weight w, Activations x, int n, Activations out) {
        matmulParts(w, out, null, null, x, n);
    }

    /**
     * All the projections in one parallel loop over their rows together: q/k/v or gate/up of a small
     * model are each too short to split well on their own (one thread, 576x576 Q4_0: ~18 us; two
     * threads over it alone were no faster), together they are one loop of 960 or 3072 rows. Each row
     * gets exactly its single-matmul operations, so the results are bit for bit those of one call each.
     */
    @Override
    public void matmul(Weight[] weights, Activations x, int n, Activations[] outs) {
        if (weights.length != outs.length) {
            throw new IllegalArgumentException("matmul: " + weights.length + " weights but " + outs.length + " outputs");
        }
        for (int i = 0; i < outs.length; i++) {
            for (int j = i + 1; j < outs.length; j++) {
                if (outs[i] == outs[j]) {
                    throw new IllegalArgumentException("matmul: outputs " + i + " and " + j + " are the same activations");
                }
            }
        }
        matmulParts(null, null, weights, outs, x, n);
    }

    /** One weight ({@code w}, {@code out}) or several ({@code ws}, {@code outs}) of input {@code x}, one parallel loop. */
    private void matmulParts(Weight w, Activations out, Weight[] ws, Activations[] outs, Activations x, int n) {
        ensureOpen();
        CpuActivations xa = act(x, "x");
        checkRows(n, xa, "x");
        Caller c = callers.get();
        MatmulTask task = c.matmul;
        task.reset(xa.data, xa.cols(), n);
        try {
            if (ws == null) {
                addPart(task, w, xa, n, out);
            } else {
                for (int i = 0; i < ws.length; i++) {
                    addPart(task, ws[i], xa, n, outs[i]);
                }
            }
            int r = task.rows();
            // Below ~64K multiply-adds a hand-off to the workers costs more than it saves. The grain is
            // the smallest (last) chunk of the pool's shrinking chunks: 1/32 of the rows on two threads.
            int grain = task.work() < parallelMinWork ? r : Math.max(16, r / (pool.parallelism() * 16));
            pool.parallelFor(c.job, task, r, grain, task.rowGroup(), c.scratch);
        } finally {
            task.clear();
        }
    }

    /** Checks one weight/output pair against {@code x} and appends its rows to {@code task}. */
    private void addPart(MatmulTask task, Weight w, CpuActivations xa, int n, Activations out) {
        CpuWeight cw = weight(w);
        CpuActivations oa = act(out, "out");
        MatmulKernel k = cw.kernel;
        if (k == null) {
            throw new UnsupportedOperationException("no CPU matmul kernel for " + cw.source().type()
                    + " (tensor " + cw.source().name() + ")");
        }
        long rows = cw.source().rows();
        checkRows(n, oa, "out");
        if (xa.cols() != cw.cols) {
            throw new IllegalArgumentException("matmul " + cw.source().name() + ": x has " + xa.cols()
                    + " columns, the weight has " + cw.cols);
        }
        if (oa.cols() < rows) {
            throw new IllegalArgumentException("matmul " + cw.source().name() + ": out has " + oa.cols()
                    + " columns, the weight has " + rows + " rows");
        }
        if (xa == oa) {
            throw new IllegalArgumentException("matmul " + cw.source().name() + ": out must not be x");
        }
        task.add(k, cw.source().data(), cw.cols, (int) rows, oa.data, oa.cols());
    }

    @Override
    public void addBias(Activations x, Weight bias, int n) {
        ensureOpen();
        CpuActivations xa = act(x, "x");
        float[] b = vector(bias, xa.cols(), "addBias");
        checkRows(n, xa, "x");
        int cols = xa.cols();
        for (int t = 0; t < n; t++) {
            ops.add(xa.data, t * cols, b, 0, cols);
        }
    }

    @Override
    public void add(Activations x, Activations y, int n) {
        ensureOpen();
        CpuActivations xa = act(x, "x");
        CpuActivations ya = act(y, "y");
        checkRows(n, xa, "x");
        checkRows(n, ya, "y");
        sameCols(xa, ya, "add");
        int cols = xa.cols();
        for (int t = 0; t < n; t++) {
            ops.add(xa.data, t * cols, ya.data, t * cols, cols);
        }
    }

    @Override
    public void rmsnorm(Activations x, Weight gamma, float eps, int n, Activations out) {
        ensureOpen();
        CpuActivations xa = act(x, "x");
        CpuActivations oa = act(out, "out");
        float[] g = vector(gamma, xa.cols(), "rmsnorm");
        checkRows(n, xa, "x");
        checkRows(n, oa, "out");
        sameCols(xa, oa, "rmsnorm");
        int cols = xa.cols();
        for (int t = 0; t < n; t++) {
            ops.rmsnorm(xa.data, t * cols, g, eps, oa.data, t * cols, cols);
        }
    }

    @Override
    public void rope(Activations x, int n, int heads, int headDim, int[] positions, RopeTable rope) {
        ensureOpen();
        CpuActivations xa = act(x, "x");
        checkRows(n, xa, "x");
        if (heads <= 0 || headDim <= 0 || (long) heads * headDim > xa.cols()) {
            throw new IllegalArgumentException("rope: " + heads + " heads of " + headDim + " do not fit rows of " + xa.cols());
        }
        if (rope.ropeDim() > headDim) {
            throw new IllegalArgumentException("rope: ropeDim " + rope.ropeDim() + " exceeds headDim " + headDim);
        }
        checkPositions(positions, n, Integer.MAX_VALUE, "rope");
        int pairs = rope.ropeDim() / 2;
        Scratch s = callers.get().scratch;
        float[] cos = s.a(pairs);
        float[] sin = s.b(pairs);
        boolean neox = rope.style() == RopeStyle.NEOX;
        for (int t = 0; t < n; t++) {
            float p = positions[t];
            for (int i = 0; i < pairs; i++) {
                // float angle, as ggml and HF compute it; cos/sin of that angle rounded once.
                float theta = p * rope.invFreq(i);
                cos[i] = (float) Math.cos(theta);
                sin[i] = (float) Math.sin(theta);
            }
            ops.rope(xa.data, t * xa.cols(), heads, headDim, rope.ropeDim(), neox, cos, sin);
        }
    }

    @Override
    public void kvWrite(KvCache cache, int layer, Activations k, Activations v, int n, int[] positions) {
        ensureOpen();
        CpuKvCache kc = cache(cache);
        CpuActivations ka = act(k, "k");
        CpuActivations va = act(v, "v");
        checkLayer(kc, layer);
        checkRows(n, ka, "k");
        checkRows(n, va, "v");
        int kvDim = kc.kvDim();
        if (ka.cols() != kvDim || va.cols() != kvDim) {
            throw new IllegalArgumentException("kvWrite: k/v have " + ka.cols() + "/" + va.cols()
                    + " columns, the cache has kvDim " + kvDim);
        }
        checkPositions(positions, n, kc.capacity(), "kvWrite");
        for (int t = 0; t < n; t++) {
            int dst = positions[t] * kvDim;
            int src = t * kvDim;
            if (kc.dtype() == DType.F32) {
                System.arraycopy(ka.data, src, kc.keys32[layer], dst, kvDim);
                System.arraycopy(va.data, src, kc.values32[layer], dst, kvDim);
            } else {
                short[] kk = kc.keys16[layer];
                short[] vv = kc.values16[layer];
                for (int i = 0; i < kvDim; i++) {
                    kk[dst + i] = Float.floatToFloat16(ka.data[src + i]);
                    vv[dst + i] = Float.floatToFloat16(va.data[src + i]);
                }
            }
        }
    }

    @Override
    public void attention(Activations q, KvCache cache, int layer, int n, int[] positions,
                          int heads, int kvHeads, int headDim, Activations out) {
        ensureOpen();
        CpuActivations qa = act(q, "q");
        CpuActivations oa = act(out, "out");
        CpuKvCache kc = cache(cache);
        checkLayer(kc, layer);
        checkRows(n, qa, "q");
        checkRows(n, oa, "out");
        if (heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("attention: heads " + heads + " must be a positive multiple of kvHeads " + kvHeads);
        }
        if ((long) heads * headDim > qa.cols() || (long) heads * headDim > oa.cols()) {
            throw new IllegalArgumentException("attention: " + heads + " heads of " + headDim
                    + " do not fit q (" + qa.cols() + ") or out (" + oa.cols() + ")");
        }
        if ((long) kvHeads * headDim != kc.kvDim()) {
            throw new IllegalArgumentException("attention: " + kvHeads + " KV heads of " + headDim
                    + " != cache kvDim " + kc.kvDim());
        }
        if (qa == oa) {
            throw new IllegalArgumentException("attention: out must not be q");
        }
        checkPositions(positions, n, kc.capacity(), "attention");
        Caller c = callers.get();
        AttentionTask task = c.attention;
        task.set(ops, qa, kc, layer, positions, heads, kvHeads, headDim, oa);
        int items = n * heads;
        long work = n == 0 ? 0 : (long) items * (positions[n - 1] + 1) * headDim;
        int grain = work < parallelMinWork ? items : Math.max(1, items / (pool.parallelism() * 4));
        try {
            pool.parallelFor(c.job, task, items, grain, c.scratch);
        } finally {
            task.clear();
        }
    }

    @Override
    public void siluMul(Activations gate, Activations up, int n) {
        ensureOpen();
        CpuActivations g = act(gate, "gate");
        CpuActivations u = act(up, "up");
        checkRows(n, g, "gate");
        checkRows(n, u, "up");
        sameCols(g, u, "siluMul");
        int cols = g.cols();
        for (int t = 0; t < n; t++) {
            ops.siluMul(g.data, t * cols, u.data, t * cols, cols);
        }
    }

    @Override
    public void copyRows(Activations src, int srcRow, Activations dst, int dstRow, int count) {
        ensureOpen();
        CpuActivations s = act(src, "src");
        CpuActivations d = act(dst, "dst");
        sameCols(s, d, "copyRows");
        if (count < 0 || srcRow < 0 || dstRow < 0 || srcRow + count > s.rows() || dstRow + count > d.rows()) {
            throw new IndexOutOfBoundsException("copyRows: rows " + srcRow + "+" + count + " of " + s.rows()
                    + " to " + dstRow + "+" + count + " of " + d.rows());
        }
        System.arraycopy(s.data, srcRow * s.cols(), d.data, dstRow * d.cols(), count * s.cols());
    }

    @Override
    public void read(Activations a, int row, float[] dst, int dstOffset) {
        ensureOpen();
        CpuActivations ca = act(a, "a");
        if (row < 0 || row >= ca.rows()) {
            throw new IndexOutOfBoundsException("read: row " + row + " of " + ca.rows());
        }
        System.arraycopy(ca.data, row * ca.cols(), dst, dstOffset, ca.cols());
    }

    @Override
    public void write(Activations a, int row, float[] src, int srcOffset) {
        ensureOpen();
        CpuActivations ca = act(a, "a");
        if (row < 0 || row >= ca.rows()) {
            throw new IndexOutOfBoundsException("write: row " + row + " of " + ca.rows());
        }
        System.arraycopy(src, srcOffset, ca.data, row * ca.cols(), ca.cols());
    }

    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return describe();
    }

    private void ensureOpen() {
        if (pool.isClosed()) {
            throw new IllegalStateException("the CPU backend is closed");
        }
    }

    private static CpuActivations act(Activations a, String what) {
        if (a instanceof CpuActivations c) {
            return c;
        }
        throw new IllegalArgumentException(what + " was not allocated by the CPU backend: " + a);
    }

    private static CpuWeight weight(Weight w) {
        if (w instanceof CpuWeight c) {
            return c;
        }
        throw new IllegalArgumentException("weight " + w.source().name() + " was not prepared by the CPU backend");
    }

    private static CpuKvCache cache(KvCache k) {
        if (k instanceof CpuKvCache c) {
            return c;
        }
        throw new IllegalArgumentException("KV cache was not allocated by the CPU backend: " + k);
    }

    private static float[] vector(Weight w, int cols, String op) {
        CpuWeight cw = weight(w);
        if (cw.vector == null) {
            throw new UnsupportedOperationException(op + ": " + cw.source() + " is not a vector of a type the CPU backend decodes");
        }
        if (cw.vector.length != cols) {
            throw new IllegalArgumentException(op + ": " + cw.source().name() + " has " + cw.vector.length
                    + " values, the activations have " + cols + " columns");
        }
        return cw.vector;
    }

    private static void checkRows(int n, CpuActivations a, String what) {
        if (n < 0 || n > a.rows()) {
            throw new IllegalArgumentException(n + " rows asked but " + what + " has " + a.rows());
        }
    }

    private static void sameCols(CpuActivations a, CpuActivations b, String op) {
        if (a.cols() != b.cols()) {
            throw new IllegalArgumentException(op + ": " + a.cols() + " vs " + b.cols() + " columns");
        }
    }

    private static void checkLayer(CpuKvCache c, int layer) {
        if (layer < 0 || layer >= c.layers()) {
            throw new IndexOutOfBoundsException("layer " + layer + " of a " + c.layers() + "-layer KV cache");
        }
    }

    private static void checkPositions(int[] positions, int n, int capacity, String op) {
        if (positions.length < n) {
            throw new IllegalArgumentException(op + ": " + n + " rows but " + positions.length + " positions");
        }
        for (int t = 0; t < n; t++) {
            int p = positions[t];
            if (p < 0 || p >= capacity) {
                throw new IndexOutOfBoundsException(op + ": position " + p + " at row " + t
                        + " is outside the KV cache's " + capacity + " positions");
            }
        }
    }

    /** Per calling thread: its parallel-loop job, scratch memory and reusable op tasks. */
    private static final class Caller {
        final WorkerPool.Job job;
        final Scratch scratch = new Scratch();
        final MatmulTask matmul = new MatmulTask();
        final AttentionTask attention = new AttentionTask();

        Caller(WorkerPool.Job job) {
            this.job = job;
        }
    }

    /**
     * Output rows {@code [start, end)} of one or more matmuls of the same input, their rows numbered one
     * after another (part p owns items {@code [first[p], first[p + 1])}). Reused per calling thread; the
     * part arrays grow once to the most parts seen.
     */
    private static final class MatmulTask implements RangeTask {
        private float[] x;
        private int xStride;
        private int n;
        private int parts;
        private long work;
        private MatmulKernel[] kernel = new MatmulKernel[4];
        private MemorySegment[] w = new MemorySegment[4];
        private int[] cols = new int[4];
        private float[][] out = new float[4][];
        private int[] outStride = new int[4];
        private int[] first = new int[5];
        /** Per part: the int8 activations it reads, or null for float x. */
        private Int8Activations[] int8 = new Int8Activations[4];
        /** x quantized once per call and rule for the kernels that read int8 activations (all parts share x). */
        private final Int8Activations q8_0 = new Int8Activations(Int8Scheme.Q8_0);
        private final Int8Activations q8_K = new Int8Activations(Int8Scheme.Q8_K);
        private boolean quantized0;
        private boolean quantizedK;
        private int rowGroup;

        void reset(float[] x, int xStride, int n) {
            this.x = x;
            this.xStride = xStride;
            this.n = n;
            parts = 0;
            work = 0;
            quantized0 = false;
            quantizedK = false;
            rowGroup = 1;
        }

        void add(MatmulKernel k, MemorySegment weight, int weightCols, int rows, float[] o, int oStride) {
            if (parts == kernel.length) {
                int size = 2 * parts;
                kernel = java.util.Arrays.copyOf(kernel, size);
                w = java.util.Arrays.copyOf(w, size);
                cols = java.util.Arrays.copyOf(cols, size);
                out = java.util.Arrays.copyOf(out, size);
                outStride = java.util.Arrays.copyOf(outStride, size);
                first = java.util.Arrays.copyOf(first, size + 1);
                int8 = java.util.Arrays.copyOf(int8, size);
            }
            Int8Scheme scheme = n > 0 ? k.int8Activations() : null;
            int8[parts] = scheme == Int8Scheme.Q8_0 ? q8_0 : scheme == Int8Scheme.Q8_K ? q8_K : null;
            // on the calling thread, before the workers start: they all read it
            if (scheme == Int8Scheme.Q8_0 && !quantized0) {
                k.quantize(q8_0, x, xStride, n, weightCols);
                quantized0 = true;
            } else if (scheme == Int8Scheme.Q8_K && !quantizedK) {
                k.quantize(q8_K, x, xStride, n, weightCols);
                quantizedK = true;
            }
            rowGroup = Math.max(rowGroup, k.rowGroup());
            kernel[parts] = k;
            w[parts] = weight;
            cols[parts] = weightCols;
            out[parts] = o;
            outStride[parts] = oStride;
            first[parts + 1] = Math.addExact(first[parts], rows);
            work += (long) rows * weightCols * n;
            parts++;
        }

        int rows() {
            return first[parts];
        }

        long work() {
            return work;
        }

        /** The largest row group of the parts' kernels: chunks start on multiples of it. */
        int rowGroup() {
            return rowGroup;
        }

        void clear() {
            x = null;
            for (int p = 0; p < parts; p++) {
                kernel[p] = null;
                w[p] = null;
                out[p] = null;
                int8[p] = null;
            }
            parts = 0;
        }

        @Override
        public void run(int start, int end, Scratch scratch) {
            int p = 0;
            while (first[p + 1] <= start) {
                p++;
            }
            while (start < end) {
                int partEnd = Math.min(end, first[p + 1]);
                if (int8[p] != null) {
                    kernel[p].matmul(w[p], cols[p], int8[p], n, out[p], outStride[p], start - first[p], partEnd - first[p]);
                } else {
                    kernel[p].matmul(w[p], cols[p], x, xStride, n, out[p], outStride[p], start - first[p], partEnd - first[p]);
                }
                start = partEnd;
                p++;
            }
        }
    }

    /** Items {@code t * heads + h}: head {@code h} of query row {@code t}. */
    private static final class AttentionTask implements RangeTask {
        private CpuOps ops;
        private CpuActivations q;
        private CpuKvCache cache;
        private int layer;
        private int[] positions;
        private int heads;
        private int group;
        private int headDim;
        private CpuActivations out;

        void set(CpuOps ops, CpuActivations q, CpuKvCache cache, int layer, int[] positions,
                 int heads, int kvHeads, int headDim, CpuActivations out) {
            this.ops = ops;
            this.q = q;
            this.cache = cache;
            this.layer = layer;
            this.positions = positions;
            this.heads = heads;
            this.group = heads / kvHeads;
            this.headDim = headDim;
            this.out = out;
        }

        void clear() {
            ops = null;
            q = null;
            cache = null;
            positions = null;
            out = null;
        }

        @Override
        public void run(int start, int end, Scratch scratch) {
            float scale = (float) (1.0 / Math.sqrt(headDim));
            int kvDim = cache.kvDim();
            // F16 cache: a KV head is widened to floats once for the query heads that share it (items
            // are token-major, so a group's heads are consecutive), then attendF32 runs on the copy:
            // the widening is exact, so these are attendF32's bits on the cached values, without
            // widening each KV head group-size (8 for tinyllama) times.
            int widenedT = -1;
            int widenedKv = -1;
            for (int item = start; item < end; item++) {
                int t = item / heads;
                int h = item % heads;
                int len = positions[t] + 1;
                float[] scores = scratch.c(len);
                int qOff = t * q.cols() + h * headDim;
                int kvHead = h / group;
                int kvOff = kvHead * headDim;
                int outOff = t * out.cols() + h * headDim;
                if (cache.dtype() == DType.F32) {
                    ops.attendF32(q.data, qOff, cache.keys32[layer], cache.values32[layer], kvOff, kvDim, len,
                            headDim, scale, scores, out.data, outOff);
                } else {
                    float[] k32 = scratch.a(len * headDim);
                    float[] v32 = scratch.b(len * headDim);
                    if (t != widenedT || kvHead != widenedKv) {
                        CpuOps.widenHead(cache.keys16[layer], kvOff, kvDim, len, headDim, k32);
                        CpuOps.widenHead(cache.values16[layer], kvOff, kvDim, len, headDim, v32);
                        widenedT = t;
                        widenedKv = kvHead;
                    }
                    ops.attendF32(q.data, qOff, k32, v32, 0, headDim, len, headDim, scale, scores, out.data, outOff);
                }
            }
        }
    }
}
