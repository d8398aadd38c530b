"""SPICE models for the parts the analog simulation needs (ngspice syntax).

Behavioural, not vendor macro-models: they capture what the analog paths depend on (gain-
bandwidth, slew rate, output swing and current limit of the op-amps; regulator set points;
diode leakage and capacitance) and nothing else. Re-check with the vendors' models before
layout (DESIGN.md).
"""

from __future__ import annotations

from hat.design.parts import (
    MCP1541_OUTPUT_V,
    MCP9700A_OFFSET_V,
    MCP9700A_SLOPE_V_PER_C,
    TPS7A30_FEEDBACK_V,
    TPS7A49_FEEDBACK_V,
)

TEMPERATURE_PARAM = "temp_c"

_OPAMP = """
* Op-amp: transconductance stage with tanh slew limit into an integrator (GBW, slew rate),
* internal node clamped inside the rails (no wind-up), current-limited output stage.
.subckt OPAMP_CORE inp inn vcc vee out params: gbw=1e6 sr=1e6 a0=1e5 hr=0.05 rout=20 ilim=0.02
.param cc=1e-9
.param imax={sr*cc} gm={6.2831853*gbw*cc} ro={a0/(6.2831853*gbw*cc)}
Bgm 0 mid I = imax*tanh(gm*V(inp,inn)/imax)
Cc mid mref {cc}
Ro mid mref {ro}
Bref mref 0 V = (V(vcc)+V(vee))/2
Bhi hi 0 V = V(vcc)-hr
Blo lo 0 V = V(vee)+hr
Dhi mid hi DCLAMP
Dlo lo mid DCLAMP
Bout 0 out I = min(max((V(mid)-V(out))/rout, -ilim), ilim)
Co out 0 1p
.model DCLAMP D(IS=1e-14 N=0.05)
.ends OPAMP_CORE

* OPA197: 10 MHz, 20 V/us, 65 mA short-circuit current, rail-to-rail output
.subckt OPA197 inp inn vcc vee out
X1 inp inn vcc vee out OPAMP_CORE params: gbw=10e6 sr=20e6 a0=1e6 hr=0.05 rout=20 ilim=0.065
.ends OPA197

* MCP6001: 1 MHz, 0.6 V/us, 23 mA short-circuit current
.subckt MCP6001 inp inn vcc vee out
X1 inp inn vcc vee out OPAMP_CORE params: gbw=1e6 sr=0.6e6 a0=1e5 hr=0.025 rout=60 ilim=0.023
.ends MCP6001
"""

_SUPPLIES = f"""
* +/-15 V converter: regulated outputs with a little output resistance
.subckt DCDC_PM15 vin gin vp com vn
V1 p1 com 15
R1 p1 vp 0.2
V2 n1 com -15
R2 n1 vn 0.2
.ends DCDC_PM15

* isolated 5 V converter (floats on its own return)
.subckt DCDC_ISO5 vin gin vout gout
V1 p1 gout 5
R1 p1 vout 0.5
.ends DCDC_ISO5

* adjustable LDOs: a high-gain error amplifier holds FB at the datasheet reference
.subckt LDO_POS in out fb gnd
Vr r gnd {TPS7A49_FEEDBACK_V}
E1 n1 gnd r fb 1e5
R1 n1 out 0.05
.ends LDO_POS
.subckt LDO_NEG in out fb gnd
Vr r gnd {TPS7A30_FEEDBACK_V}
E1 n1 gnd r fb 1e5
R1 n1 out 0.05
.ends LDO_NEG
.subckt LDO_3V3 in out gnd
V1 n1 gnd 3.3
R1 n1 out 0.2
.ends LDO_3V3

* MCP1541 voltage reference
.subckt REF4V096 vin out gnd
V1 n1 gnd {MCP1541_OUTPUT_V}
R1 n1 out 1
.ends REF4V096

* MCP9700A: the board temperature is the deck parameter {TEMPERATURE_PARAM}
.subckt MCP9700A vdd out gnd
B1 n1 gnd V = {MCP9700A_OFFSET_V} + {MCP9700A_SLOPE_V_PER_C}*{TEMPERATURE_PARAM}
R1 n1 out 20
.ends MCP9700A
"""

_DIODES = """
.model DSIG D(IS=2.52n N=1.752 RS=0.568 CJO=4p M=0.4 TT=20n BV=100 IBV=100u)
.model DLOWLEAK D(IS=2p N=1.6 RS=1.5 CJO=2p BV=85 IBV=5n)
.model DLED D(IS=1e-18 N=2 RS=5 CJO=10p)
.model DCAR D(IS=2.52n N=1.752 RS=0.568 CJO=4p BV=100)
* SMAJ15CA: two breakdown junctions back to back, ~300 pF
.model DZ15 D(IS=1e-12 N=1 RS=0.5 BV=16.7 IBV=1m CJO=600p)
.subckt TVS15 a b
D1 m a DZ15
D2 m b DZ15
.ends TVS15
"""


def model_library() -> str:
    return _OPAMP + _SUPPLIES + _DIODES
