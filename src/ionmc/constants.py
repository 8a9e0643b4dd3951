"""Physical constants (CODATA 2018 exact values: Tiesinga et al. 2021, Rev Mod Phys
93:025010).

SI units everywhere inside ionmc; units are converted at the edge (scenario loading and
output columns), following Brian2's practice of checking units at the boundary.
"""

R = 8.314462618  # J/(mol K)
F = 96485.33212  # C/mol
N_A = 6.02214076e23  # 1/mol
E_CHARGE = 1.602176634e-19  # C
K_B = 1.380649e-23  # J/K

#: ions per (mM * um^3): 1 mM in 1 um^3 = 1e-3 mol/L * 1e-15 L * N_A
IONS_PER_MM_UM3 = 1e-18 * N_A

UM2_TO_M2 = 1e-12
UM3_TO_M3 = 1e-18
CM_TO_M = 1e-2
UF_PER_CM2_TO_F_PER_M2 = 1e-2  # 1 uF/cm^2 = 1e-6 F / 1e-4 m^2
