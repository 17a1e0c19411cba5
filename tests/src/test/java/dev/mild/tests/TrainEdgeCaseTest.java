package dev.mild.tests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.InvalidInputException;
import dev.mild.router.RouterTraining;
import org.junit.jupiter.api.Test;

/** Router training at its edges, as a user reaches them: odd options, tiny data, losses that cannot be trained. */
class TrainEdgeCaseTest {

    /**
     * A misspelled rule is checked before the data is read, so the experts are not known yet: the message once
     * counted the user's items as the experts ("expected auto, theory, uniform or 1 margins") for 3 experts.
     */
    @Test
    void aMisspelledRhoRuleIsNamedWithoutInventingAnExpertCount() {
        RouterTraining.Spec s = new RouterTraining.Spec();
        s.rho = "theroy";
        InvalidInputException e = assertThrows(InvalidInputException.class, s::check);
        assertTrue(e.getMessage().startsWith("--rho \"theroy\" is neither a rule nor a number; expected auto, theory,"
                + " uniform or one margin per expert"), e.getMessage());
        assertFalse(e.getMessage().contains("1 margins"), e.getMessage());

        s.rho = "1,x,1";
        e = assertThrows(InvalidInputException.class, s::check);
        assertTrue(e.getMessage().startsWith("--rho: \"x\" (expert 2) is not a number"), e.getMessage());
        assertFalse(e.getMessage().contains("3 margins"), e.getMessage());
    }
}
