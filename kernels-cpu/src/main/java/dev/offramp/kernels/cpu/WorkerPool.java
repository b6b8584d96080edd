package dev.offramp.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon workers ({@code offramp-cpu-N}) that help calling threads run parallel
 * loops. The caller always works too, so {@code threads} means total parallelism: {@code threads - 1}
 * workers are started. Several callers (sessions sharing one backend) may run loops at once: each
 * publishes its {@link Job} in a free slot and workers help whichever jobs they find.
 *
 * <p>Items are handed out in chunks through one atomic counter, so a thread that the (shared, noisy)
 * machine slows down simply takes fewer chunks and all threads finish together. Chunks shrink as the
 * loop drains (guided self-scheduling: each claim takes {@code remaining / (2 parallelism)} items, at
 * least the caller's grain), so few claims are made and the last ones are small: the time one thread
 * waits for another's last chunk is at most one small chunk. With fixed chunks of 1/16 of a decode
 * matmul, a JFR profile of a two-thread decode had the worker waiting on the caller's last chunk ~12%
 * of its samples. Nothing is allocated per loop: each calling thread owns one reusable {@link Job}.
 *
 * <p>A job's claim state packs {@code generation | nextItem} into one long, so a worker holding a
 * stale reference can never run items of a later loop.
 */
final class WorkerPool implements AutoCloseable {
    private static final int SLOTS = 64;
    /**
     * How long an idle worker spins before it parks. A two-thread tinyllama decode (~170 loops per
     * token) parked the worker ~28 times per token at 50 us; every park costs a wake-up (an idle vCPU
     * here halts) while the caller runs the next loop alone. At 1 ms: generate, 2 threads, alternated
     * with 50 us, medians of 3: Q4_0 28.3 -> 30.0, Q8_0 24.9 -> 26.3 tok/s.
     */
    private static final long SPIN_NANOS = 1_000_000;

    private final Worker[] workers;
    private final AtomicReferenceArray<Job> slots = new AtomicReferenceArray<>(SLOTS);
    private final AtomicInteger published = new AtomicInteger();
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            Thread t = new Thread(workers[i], "offramp-cpu-" + (i + 1));
            t.setDaemon(true);
            workers[i].thread = t;
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    int parallelism() {
        return workers.length + 1;
    }

    /** Creates the reusable job of one calling thread. */
    Job newJob() {
        return new Job(Thread.currentThread());
    }

    /**
     * Runs {@code task} over {@code [0, items)} in chunks of at least {@code grain} items (larger ones
     * first, see the class comment), on the caller and the workers, and returns when every item is
     * done. Exceptions of any chunk are rethrown here.
     */
    void parallelFor(Job job, RangeTask task, int items, int grain, Scratch callerScratch) {
        parallelFor(job, task, items, grain, 1, callerScratch);
    }

    /**
     * {@link #parallelFor(Job, RangeTask, int, int, Scratch)} with every chunk starting at a multiple of
     * {@code align} (kernels that compute rows in groups then never split a group between threads).
     */
    void parallelFor(Job job, RangeTask task, int items, int grain, int align, Scratch callerScratch) {
        if (items <= 0) {
            return;
        }
        grain = Math.max(1, grain);
        if (workers.length == 0 || items <= grain) {
            task.run(0, items, callerScratch);
            return;
        }
        int slot = acquireSlot(job);
        if (slot < 0) {
            task.run(0, items, callerScratch); // every slot busy: this caller works alone
            return;
        }
        job.start(task, items, grain, Math.max(1, align), 2 * parallelism());
        published.incrementAndGet();
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w.thread);
            }
        }
        job.help(callerScratch);
        // Every item is claimed now: unpublish so workers stop looking, then wait for the stragglers.
        slots.set(slot, null);
        published.decrementAndGet();
        job.await();
        Throwable failure = job.failure;
        if (failure != null) {
            job.failure = null;
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(failure);
        }
    }

    private int acquireSlot(Job job) {
        int start = (int) (Thread.currentThread().threadId() & (SLOTS - 1));
        for (int i = 0; i < SLOTS; i++) {
            int s = (start + i) & (SLOTS - 1);
            if (slots.get(s) == null && slots.compareAndSet(s, null, job)) {
                return s;
            }
        }
        return -1;
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
        for (Worker w : workers) {
            try {
                w.thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** One calling thread's reusable parallel loop. */
    static final class Job {
        private final Thread owner;
        private final AtomicLong state = new AtomicLong();
        private final AtomicInteger done = new AtomicInteger();
        private RangeTask task;
        private int items;
        private int grain;
        private int align;
        private int split;
        private volatile boolean waiting;
        volatile Throwable failure;

        Job(Thread owner) {
            this.owner = owner;
        }

        void start(RangeTask task, int items, int grain, int align, int split) {
            // First a new generation with nothing left to claim: a worker that read the old state and
            // then sees this loop's fields (a larger item count) would otherwise claim items of this
            // loop against the old state; its CAS now fails.
            long gen = (state.get() >>> 32) + 1;
            state.set((gen << 32) | Integer.MAX_VALUE);
            this.task = task;
            this.items = items;
            this.grain = grain;
            this.align = align;
            this.split = split;
            done.set(0);
            // The volatile write publishes the plain fields above to any worker whose CAS succeeds.
            state.set(gen << 32);
        }

        /** Claims and runs chunks until no item is left; true if it ran any. */
        boolean help(Scratch scratch) {
            boolean ran = false;
            while (true) {
                long s = state.get();
                int next = (int) s;
                int remaining = items - next;
                if (remaining <= 0) {
                    return ran;
                }
                long want = Math.max(grain, remaining / split);
                // every size but the last is a multiple of align, so every chunk starts on one
                int size = (int) Math.min(remaining, want + (align - want % align) % align);
                if (!state.compareAndSet(s, s + size)) {
                    continue;
                }
                ran = true;
                // The claimed items keep this generation alive, so the fields are this loop's.
                try {
                    task.run(next, next + size, scratch);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                }
                if (done.addAndGet(size) == items && waiting) {
                    LockSupport.unpark(owner);
                }
            }
        }

        void await() {
            if (done.get() == items) {
                return;
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (done.get() != items) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    waiting = true;
                    if (done.get() != items) {
                        LockSupport.parkNanos(this, 1_000_000);
                    }
                }
            }
            waiting = false;
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        volatile boolean parked;
        private final Scratch scratch = new Scratch();

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (!closed) {
                boolean ran = false;
                if (published.get() > 0) {
                    for (int i = 0; i < SLOTS; i++) {
                        Job j = slots.get(i);
                        if (j != null && j.help(scratch)) {
                            ran = true;
                        }
                    }
                }
                if (ran) {
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    // Dekker-style hand-shake with parallelFor: set parked, then re-check for work, so
                    // a job published between the check and park() still unparks this thread.
                    parked = true;
                    if (published.get() == 0 && !closed) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
