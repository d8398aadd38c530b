// What each pilot fault means for the user and what to do about it.

export const FAULT_HELP = {
  DiodeFault: {
    title: "Pilot diode missing",
    todo: "The car or cable does not answer the pilot signal correctly. Unplug, check the cable and plug in again.",
    clear: "unplug",
  },
  VentilationNotAvailable: {
    title: "Car asks for ventilation",
    todo: "The car wants a ventilated space (state D) and this station has none, so charging is not offered again until the car is unplugged. Charge outdoors or at a ventilated station.",
    clear: "unplug",
  },
  RCD_DC: {
    title: "DC residual current",
    todo: "The residual-current monitor tripped and the contactor opened. Unplug and check car and cable for damage. Charging retries 15 minutes after the last trip (at most 3 times per plug-in); call an electrician if it repeats.",
    clear: "unplug",
  },
  RCD_AC: {
    title: "AC residual current",
    todo: "The residual-current monitor tripped and the contactor opened. Unplug and check car and cable for damage. Charging retries 15 minutes after the last trip (at most 3 times per plug-in); call an electrician if it repeats.",
    clear: "unplug",
  },
  RCDSelfTestFailed: {
    title: "RCD self-test failed",
    todo: "The residual-current monitor did not pass its self-test, so charging stays off. Retry once; if it fails again, have the module checked.",
    clear: "unplug",
  },
  ContactorWelded: {
    title: "Contactor welded",
    todo: "A contactor stays closed when it should be open. Switch the station off at its breaker and call service; only a service reset clears this.",
    clear: "service",
  },
  ContactorFault: {
    title: "Contactor dropped",
    todo: "The contactor opened without being told to (coil supply, driver, or the safety watchdog). Charging retries after 10 seconds through the full safety sequence, at most 3 times per plug-in; if it repeats, have the contactor wiring checked.",
    clear: "unplug",
  },
  OverCurrent: {
    title: "Car draws too much",
    todo: "The car drew more than offered for several seconds. Unplug and plug in again; if it repeats, the car's charger needs a check.",
    clear: "unplug",
  },
  OverTemperature: {
    title: "Too hot",
    todo: "The board is hot: charging is halved at 65 °C and paused at 75 °C. It resumes when it cools; check the enclosure's ventilation.",
  },
  PPInvalid: {
    title: "Cable not recognised",
    todo: "The cable's coding resistor is out of range. Plug the cable in firmly or try another cable.",
  },
  PilotFault: {
    title: "Pilot signal out of range",
    todo: "The pilot line reads an invalid level (short circuit or state E). Unplug and check the plug and cable.",
  },
  ADCFault: {
    title: "Measurement fault",
    todo: "The HAT's pilot measurement gives bad readings. Restart the appliance; if it persists, the HAT needs service.",
  },
  MeterFault: {
    title: "Meter fault",
    todo: "The station's metering chip does not answer correctly. Restart the appliance; if it persists, the HAT needs service.",
  },
  SupervisorLost: {
    title: "Supervisor silent",
    todo: "The pilot process lost contact with the supervisor and offers the failsafe current. It clears by itself when the supervisor answers again.",
  },
};

export function faultHelp(code) {
  return FAULT_HELP[code] || { title: code, todo: "See the event log for details; restart the appliance if it does not clear." };
}
