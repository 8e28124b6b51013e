import type { SimCourse, SimUser } from './types';

/** The demo course: one course, one tool activity (resource link). */
export const DEMO_COURSE: SimCourse = Object.freeze({
  contextId: 'curso-demo-sence',
  label: 'SENCE-101',
  title: 'Excel para planillas de cálculo (demo SENCE)',
  resourceLinkId: 'asistencia-sence-1',
});

/**
 * Demo users, one per way an LMS can (fail to) tell the tool the learner's RUN:
 * - ana: custom parameter rut carries a valid RUT (12.345.678-5, check digit verified: mod 11 of 12345678 → 5);
 * - bruno: the admin wrote `rut=$User.username` but the LMS did not substitute it, and no idnumber → no valid RUN;
 * - camila: no custom parameter; lis.person_sourcedid (Moodle idnumber) = 9876543-3 (mod 11 of 9876543 → 3);
 * - diego: instructor, no RUN;
 * - elena: a learner who never opens the tool (only the roster, NRPS, knows her); the site keeps the RUN
 *   in the username (rut=$User.username, as the tool recommends): username 15432987-0, no idnumber.
 */
const demoUsers: SimUser[] = [
  {
    id: 'ana',
    name: 'Ana Pérez',
    givenName: 'Ana',
    familyName: 'Pérez',
    email: 'ana.perez@example.com',
    role: 'learner',
    customRut: '12.345.678-5',
    sourcedId: '',
  },
  {
    id: 'bruno',
    name: 'Bruno Soto',
    givenName: 'Bruno',
    familyName: 'Soto',
    email: 'bruno.soto@example.com',
    role: 'learner',
    customRut: '$User.username',
    sourcedId: '',
  },
  {
    id: 'camila',
    name: 'Camila Rojas',
    givenName: 'Camila',
    familyName: 'Rojas',
    email: 'camila.rojas@example.com',
    role: 'learner',
    customRut: null,
    sourcedId: '9876543-3',
  },
  {
    id: 'elena',
    name: 'Elena Muñoz',
    givenName: 'Elena',
    familyName: 'Muñoz',
    email: 'elena.munoz@example.com',
    role: 'learner',
    customRut: '15432987-0',
    sourcedId: '',
    username: '15432987-0',
  },
  {
    id: 'diego',
    name: 'Diego Fuentes',
    givenName: 'Diego',
    familyName: 'Fuentes',
    email: 'diego.fuentes@example.com',
    role: 'instructor',
    customRut: null,
    sourcedId: '',
  },
];

export const DEMO_USERS: SimUser[] = demoUsers.map((u) => Object.freeze(u));
