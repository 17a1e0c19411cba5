package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.io.DeferralGolden;
import dev.mild.io.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker behind {@code ./mild golden deferral-cases.json}, in process: before, only the CLI tests' spawned runs
 * reached it, and mutation testing saw none of its 58 mutants killed. Expected values come from the golden file and
 * from small documents worked out by hand.
 */
class DeferralGoldenTest {

    @Test
    void theGoldenFilePassesEverySection() {
        List<DeferralGolden.Result> results = DeferralGolden.check(
                Json.parse(Support.resource("deferral-cases.json"), "deferral-cases.json"), "deferral-cases.json");
        assertEquals(List.of("deferralLoss", "rewards/sum-others", "rewards/one-minus", "rewards/realizable",
                "theoryRho"), results.stream().map(DeferralGolden.Result::caseName).toList());
        for (DeferralGolden.Result r : results) {
            assertTrue(r.ok() && r.mismatches() == 0 && r.maxAbsErr() <= 1e-12, r.toString());
        }
    }

    /**
     * Two rows, two experts: scores (1, 2) choose expert 1 (cost 1); scores (3, 3) tie and go to the highest index,
     * expert 1 (cost 2). Row losses 1 and 2, mean 1.5.
     */
    private static String loss(String choice, String rowLoss, String meanLoss) {
        return "{\"deferralLoss\": {\"scores\": [[1, 2], [3, 3]], \"costs\": [[0.5, 1], [0.25, 2]], \"choice\": "
                + choice + ", \"rowLoss\": " + rowLoss + ", \"meanLoss\": " + meanLoss + "}}";
    }

    private static DeferralGolden.Result checkLoss(String choice, String rowLoss, String meanLoss) {
        List<DeferralGolden.Result> r = DeferralGolden.check(Json.parse(loss(choice, rowLoss, meanLoss), "t"), "t");
        assertEquals(1, r.size());
        return r.get(0);
    }

    @Test
    void deferralLossCountsWrongChoicesAndMeasuresLossErrors() {
        assertEquals(new DeferralGolden.Result("deferralLoss", 0, 0, true), checkLoss("[1, 1]", "[1, 2]", "1.5"));
        assertEquals(new DeferralGolden.Result("deferralLoss", 0, 1, false), checkLoss("[1, 0]", "[1, 2]", "1.5"));
        assertEquals(new DeferralGolden.Result("deferralLoss", 0.5, 0, false), checkLoss("[1, 1]", "[1, 2.5]", "1.5"));
        assertEquals(new DeferralGolden.Result("deferralLoss", 0.25, 0, false), checkLoss("[1, 1]", "[1, 2]", "1.75"));
    }

    @Test
    void badChoicesAndSectionsAreNamed() {
        assertEquals("t: deferralLoss: \"choice\"[1] is 2, outside the experts 0..1", error(loss("[1, 2]", "[1, 2]", "1.5")));
        assertEquals("t: deferralLoss: \"choice\"[0] must be a whole number >= 0, got 0.5",
                error(loss("[0.5, 1]", "[1, 2]", "1.5")));
        assertEquals("t: deferralLoss: \"choice\"[1] must be a whole number >= 0, got -1.0",
                error(loss("[1, -1]", "[1, 2]", "1.5")));
        assertEquals("t: expected an object with a \"deferralLoss\", \"rewards\" or \"theoryRho\" section", error("{}"));
        assertTrue(error("{\"theoryRho\": {}, \"theoryrho\": {}}").startsWith("t: \"theoryrho\" is not a section of a"
                + " deferral-cases file"));
        assertEquals("t: \"rewards\" must be an object, got 3.0", error("{\"rewards\": 3}"));
        assertEquals("t: \"rewards\" must be an object, got an array", error("{\"rewards\": []}"));
        assertFalse(DeferralGolden.isDeferralFormat(List.of()));
        assertFalse(DeferralGolden.isDeferralFormat(Json.parse("{\"cases\": []}", "t")));
    }

    @Test
    void resultsPrintAsOneLineOfJson() {
        assertEquals("{\"case\": \"rewards/one-minus\", \"maxAbsErr\": 0.5, \"mismatches\": 2, \"ok\": false}",
                new DeferralGolden.Result("rewards/one-minus", 0.5, 2, false).toJson());
        assertEquals("{\"case\": \"theoryRho\", \"maxAbsErr\": null, \"mismatches\": 0, \"ok\": true}",
                new DeferralGolden.Result("theoryRho", Double.NaN, 0, true).toJson());
    }

    private static String error(String json) {
        return assertThrows(InvalidInputException.class, () -> DeferralGolden.check(Json.parse(json, "t"), "t"))
                .getMessage();
    }
}
