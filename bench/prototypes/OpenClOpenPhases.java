package dev.mild.opencl; // for OpenClLoss.source(), the program every open builds

import static org.jocl.CL.*;

import dev.mild.loss.KernelOptions;
import java.util.Arrays;
import org.jocl.*;

/**
 * A measurement, not part of the build (bench/PERFORMANCE.md, "Opening an OpenClLoss again"): what an
 * {@code OpenClLoss.open} + {@code close} costs in one JVM (the first, then the median of N more), and each OpenCL
 * call of {@code OpenClContext}'s constructor timed on its own, N times, with the two calls a binary needs instead
 * of the compile: {@code clGetProgramInfo(CL_PROGRAM_BINARIES)} once built, {@code clCreateProgramWithBinary} and
 * {@code clBuildProgram} on it.
 *
 * <pre>
 *   J=/usr/lib/jvm/temurin-25-jdk-amd64/bin; ./mild --help >/dev/null   # builds cli/target/mild.jar
 *   $J/javac -cp cli/target/mild.jar -d /tmp/proto bench/prototypes/OpenClOpenPhases.java
 *   LD_PRELOAD=$J/../lib/libjsig.so $J/java --enable-native-access=ALL-UNNAMED -cp cli/target/mild.jar:/tmp/proto \
 *       -Dmild.opencl.programBinaries=false dev.mild.opencl.OpenClOpenPhases 40
 * </pre>
 * (without the property, the opens after the second load the binary this process kept).
 */
public class OpenClOpenPhases {
    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        OpenClDevices.Device d = OpenClDevices.select(null); // loads JOCL and the ICD loader first
        long t = System.nanoTime();
        OpenClLoss.open(KernelOptions.DEFAULT).close();
        System.out.printf("first open+close %.1f ms%n", (System.nanoTime() - t) / 1e6);
        double[] open = new double[n];
        for (int i = 0; i < n; i++) {
            t = System.nanoTime();
            OpenClLoss.open(KernelOptions.DEFAULT).close();
            open[i] = (System.nanoTime() - t) / 1e6;
        }
        System.out.println("later open+close " + stats(open));

        String[] names = {"clCreateContext", "clCreateCommandQueue", "clCreateProgramWithSource", "clBuildProgram (source)",
                "clCreateKernel x2", "clGetProgramInfo (binary)", "clCreateProgramWithBinary", "clBuildProgram (binary)",
                "release all"};
        double[][] ms = new double[names.length][n];
        cl_device_id[] ids = {d.id()};
        int[] err = new int[1];
        for (int i = 0; i < n; i++) {
            long[] at = new long[names.length + 1];
            int k = 0;
            at[k++] = System.nanoTime();
            cl_context c = clCreateContext(null, 1, ids, null, null, err);
            check(err);
            at[k++] = System.nanoTime();
            @SuppressWarnings("deprecation")
            cl_command_queue q = clCreateCommandQueue(c, d.id(), 0, err);
            check(err);
            at[k++] = System.nanoTime();
            cl_program p = clCreateProgramWithSource(c, 1, new String[] {OpenClLoss.source()}, null, err);
            check(err);
            at[k++] = System.nanoTime();
            check(clBuildProgram(p, 1, ids, "", null, null));
            at[k++] = System.nanoTime();
            cl_kernel k1 = clCreateKernel(p, "loss_tiled", err);
            cl_kernel k2 = clCreateKernel(p, "loss_direct", err);
            check(err);
            at[k++] = System.nanoTime();
            long[] size = new long[1];
            check(clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null));
            byte[] binary = new byte[(int) size[0]];
            check(clGetProgramInfo(p, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(new Pointer[] {Pointer.to(binary)}), null));
            at[k++] = System.nanoTime();
            cl_program pb = clCreateProgramWithBinary(c, 1, ids, new long[] {binary.length}, new byte[][] {binary}, new int[1], err);
            check(err);
            at[k++] = System.nanoTime();
            check(clBuildProgram(pb, 1, ids, "", null, null));
            at[k++] = System.nanoTime();
            clReleaseProgram(pb);
            clReleaseKernel(k2);
            clReleaseKernel(k1);
            clReleaseProgram(p);
            clReleaseCommandQueue(q);
            clReleaseContext(c);
            at[k] = System.nanoTime();
            for (int j = 0; j < names.length; j++) {
                ms[j][i] = (at[j + 1] - at[j]) / 1e6;
            }
            if (i == 0) {
                System.out.println("binary: " + binary.length + " bytes");
            }
        }
        for (int j = 0; j < names.length; j++) {
            System.out.printf("%-27s %s%n", names[j], stats(ms[j]));
        }
    }

    static void check(int status) {
        if (status != CL_SUCCESS) {
            throw new IllegalStateException(stringFor_errorCode(status));
        }
    }

    static void check(int[] err) {
        check(err[0]);
    }

    static String stats(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format("median %.2f ms (p10 %.2f, p90 %.2f, max %.2f; n = %d)", s[s.length / 2], s[s.length / 10],
                s[s.length * 9 / 10], s[s.length - 1], s.length);
    }
}
