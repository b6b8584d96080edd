package dev.offramp.kernels.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerPoolTest {

    /** Every item runs exactly once, and the worker takes part (items are slow enough for it to wake up). */
    @Test
    void itemsRunOnceAcrossCallerAndWorkers() {
        try (WorkerPool pool = new WorkerPool(2)) {
            WorkerPool.Job job = pool.newJob();
            boolean workerRan = false;
            for (int round = 0; round < 3; round++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(60);
                Set<Thread> threads = ConcurrentHashMap.newKeySet();
                pool.parallelFor(job, (start, end, scratch) -> {
                    threads.add(Thread.currentThread());
                    for (int i = start; i < end; i++) {
                        runs.incrementAndGet(i);
                        long until = System.nanoTime() + 1_000_000;
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                    }
                }, 60, 1, new Scratch());
                for (int i = 0; i < 60; i++) {
                    assertThat(runs.get(i)).as("item %d", i).isEqualTo(1);
                }
                assertThat(threads).as("threads that ran items").hasSizeBetween(1, 2);
                // on a loaded machine one round may pass without the worker being scheduled at all
                workerRan |= threads.stream().anyMatch(t -> t.getName().equals("offramp-cpu-1"));
            }
            assertThat(workerRan).as("the worker ran items in some round").isTrue();
        }
    }

    @Test
    void aFailingChunkIsRethrownToTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            WorkerPool.Job job = pool.newJob();
            assertThatThrownBy(() -> pool.parallelFor(job, (start, end, scratch) -> {
                if (start <= 17 && 17 < end) {
                    throw new IllegalStateException("chunk with item 17");
                }
            }, 40, 1, new Scratch())).isInstanceOf(IllegalStateException.class).hasMessageContaining("17");
            AtomicIntegerArray runs = new AtomicIntegerArray(40);
            pool.parallelFor(job, (start, end, scratch) -> {
                for (int i = start; i < end; i++) {
                    runs.incrementAndGet(i);
                }
            }, 40, 3, new Scratch());
            for (int i = 0; i < 40; i++) {
                assertThat(runs.get(i)).isEqualTo(1);
            }
        }
    }

    /**
     * Many short loops back to back whose item counts jump up and down (seeded): a worker still
     * looking at the previous loop must never claim items of the next one against the old claim state
     * (a version of the shrinking chunks did, then waited forever for a count it had overshot). Every
     * item of every loop runs exactly once, and no loop hangs (the racy version hung here within 300,000
     * loops).
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void backToBackLoopsOfChangingSizeRunEveryItemOnce() {
        Random random = new Random(42);
        try (WorkerPool pool = new WorkerPool(3)) {
            WorkerPool.Job job = pool.newJob();
            Scratch scratch = new Scratch();
            for (int loop = 0; loop < 200_000; loop++) {
                int items = 1 + random.nextInt(loop % 2 == 0 ? 8 : 400);
                int grain = 1 + random.nextInt(4);
                AtomicIntegerArray runs = new AtomicIntegerArray(items);
                pool.parallelFor(job, (start, end, s) -> {
                    for (int i = start; i < end; i++) {
                        runs.incrementAndGet(i);
                    }
                }, items, grain, scratch);
                for (int i = 0; i < items; i++) {
                    if (runs.get(i) != 1) {
                        throw new AssertionError("loop " + loop + " (" + items + " items, grain " + grain + "): item "
                                + i + " ran " + runs.get(i) + " times");
                    }
                }
            }
        }
    }
}
