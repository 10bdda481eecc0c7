//! The two ways of running guest code behind one interface, so that the
//! machine has one run loop for both: the reference interpreter
//! ([`Interpreter`], `Cpu::step` in a loop) and the dynamic binary
//! translator ([`Translator`], `translator::Jit`). The machine gives an
//! engine a budget of steps (instructions executed or faulted, events
//! delivered) and learns how many it took and why it stopped; it never
//! looks at an engine's own exit types.

use cpu_model::interp::StepOutcome;
use cpu_model::{Bus, Cpu, StopReason};
use translator::{Jit, JitExit, JitStats};

/// Why a slice of execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SliceEnd {
    /// The budget was used up, or a device asked the machine to stop
    /// (`Bus::stop_requested`) after the step that made it ask.
    Budget,
    /// The processor is halted and nothing woke it within the slice (the
    /// step that found it so is not counted).
    Halted,
    /// The processor cannot go on: a triple fault, or an architectural
    /// feature xlat does not model.
    Stopped(StopReason),
}

/// What a slice did: the steps it took and why it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    pub steps: u64,
    pub end: SliceEnd,
}

/// An execution engine: runs the CPU against a bus for at most `budget`
/// steps (at least 1), stopping early when the processor halts, stops, or
/// a device asks the machine to stop.
pub trait ExecutionEngine: Send + std::fmt::Debug {
    fn run(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, budget: u64) -> Slice;
    /// The translator's counters, for an engine that has them.
    fn jit_stats(&self) -> Option<JitStats> {
        None
    }
}

/// The reference interpreter, one `Cpu::step` at a time.
#[derive(Debug, Default)]
pub struct Interpreter;

impl ExecutionEngine for Interpreter {
    fn run(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, budget: u64) -> Slice {
        let mut steps = 0;
        while steps < budget {
            match cpu.step(bus) {
                Ok(StepOutcome::Executed) => steps += 1,
                Ok(StepOutcome::Halted) => {
                    return Slice {
                        steps,
                        end: SliceEnd::Halted,
                    }
                }
                Err(s) => {
                    return Slice {
                        steps,
                        end: SliceEnd::Stopped(s),
                    }
                }
            }
            if bus.stop_requested() {
                break;
            }
        }
        Slice {
            steps,
            end: SliceEnd::Budget,
        }
    }
}

/// The dynamic binary translator.
#[derive(Debug)]
pub struct Translator(pub Jit);

impl ExecutionEngine for Translator {
    fn run(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, budget: u64) -> Slice {
        let jit = &mut self.0;
        let before = jit.guest_instructions();
        let r = jit.run(cpu, bus, budget);
        let steps = jit.guest_instructions() - before;
        let end = match r {
            Ok(JitExit::BudgetExhausted | JitExit::StopRequested) => SliceEnd::Budget,
            Ok(JitExit::Halted) => SliceEnd::Halted,
            // Only with `JitConfig` options the machine does not set
            // (stop addresses, exceptions and software interrupts returned
            // instead of delivered).
            Ok(JitExit::StopAddress | JitExit::Exception(_) | JitExit::SoftwareInterrupt(_)) => {
                SliceEnd::Stopped(StopReason::Unsupported("unexpected translator exit"))
            }
            Err(s) => SliceEnd::Stopped(s),
        };
        Slice { steps, end }
    }

    fn jit_stats(&self) -> Option<JitStats> {
        Some(self.0.stats())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpu_model::memory::FlatBus;

    /// A real-mode program at the reset vector: `n` NOPs, then HLT with
    /// IF = 0 (`cli`), in a 1 MiB flat bus.
    fn program(nops: usize) -> (Cpu, FlatBus) {
        let mut bus = FlatBus::new(1 << 20);
        let cpu = Cpu::new();
        // CS:IP = F000:FFF0 (base 0xFFFF0000) reads the top of the bus
        // only through the 4 GiB alias a FlatBus does not have: start at
        // 0x1000 instead.
        let mut cpu = cpu;
        cpu.state.rip = 0x1000;
        cpu.state.segment_mut(cpu_model::state::SegReg::Cs).base = 0;
        cpu.state.segment_mut(cpu_model::state::SegReg::Cs).selector = 0;
        let mut code = vec![0xfa]; // cli
        code.extend(std::iter::repeat_n(0x90, nops));
        code.push(0xf4); // hlt
        bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(&code);
        (cpu, bus)
    }

    fn engines() -> Vec<Box<dyn ExecutionEngine>> {
        vec![
            Box::new(Interpreter),
            Box::new(Translator(
                Jit::new(translator::JitConfig::default()).expect("jit"),
            )),
        ]
    }

    /// Both engines take the same steps, end for the same reasons and leave
    /// the same state, slice by slice.
    #[test]
    fn both_engines_slice_alike() {
        let mut outcomes = Vec::new();
        for mut e in engines() {
            let (mut cpu, mut bus) = program(100);
            let mut ends = Vec::new();
            for budget in [1, 10, 1000, 1000] {
                let s = e.run(&mut cpu, &mut bus, budget);
                ends.push(s);
            }
            outcomes.push((ends, cpu.state.clone()));
        }
        let (a, b) = (&outcomes[0], &outcomes[1]);
        assert_eq!(a.0, b.0, "slices differ");
        assert_eq!(a.1, b.1, "final states differ");
        let steps: Vec<u64> = a.0.iter().map(|s| s.steps).collect();
        // cli + 100 nops + hlt = 102 steps, then the halted CPU.
        assert_eq!(steps, vec![1, 10, 91, 0]);
        assert_eq!(a.0[2].end, SliceEnd::Halted);
        assert_eq!(a.0[3].end, SliceEnd::Halted);
    }

    /// A stop (a triple fault here: no IDT and a #UD in real mode with a
    /// limit too small for the vector) ends the slice with its reason.
    #[test]
    fn a_stop_ends_the_slice() {
        for mut e in engines() {
            let (mut cpu, mut bus) = program(0);
            // ud2 at the start; IDTR limit 0: #UD cannot be delivered, nor
            // #GP, nor #DF.
            bus.ram[0x1000] = 0x0f;
            bus.ram[0x1001] = 0x0b;
            cpu.state.idtr.limit = 0;
            let s = e.run(&mut cpu, &mut bus, 100);
            assert_eq!(s.end, SliceEnd::Stopped(StopReason::TripleFault), "{e:?}");
        }
    }
}
