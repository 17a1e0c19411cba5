package dev.mild.loss;

/** Registers {@link ScalarKernel} (automatic fallback) and {@link ReferenceKernel} (by name only). */
public final class ScalarProvider implements LossKernelProvider {
    /** The provider {@link java.util.ServiceLoader} instantiates. */
    public ScalarProvider() {
    }

    @Override
    public String name() {
        return ScalarKernel.NAME;
    }

    @Override
    public String description() {
        return "float32 plain Java loops; the fallback every machine has";
    }

    @Override
    public int autoPriority() {
        return 10;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public LossKernel create(KernelOptions options) {
        return new ScalarKernel(options);
    }

    /** The float64 reference, only when asked for by name: it is the truth for tests, not a fast path. */
    public static final class Reference implements LossKernelProvider {
        /** The provider {@link java.util.ServiceLoader} instantiates. */
        public Reference() {
        }

        @Override
        public String name() {
            return ReferenceKernel.NAME;
        }

        @Override
        public String description() {
            return "float64, term by term in log space; the truth the tests compare with (by name only)";
        }

        @Override
        public int autoPriority() {
            return -1;
        }

        @Override
        public String unavailableReason() {
            return null;
        }

        @Override
        public LossKernel create(KernelOptions options) {
            return new ReferenceKernel();
        }
    }
}
