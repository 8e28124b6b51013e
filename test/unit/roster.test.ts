import { isLearnerMember, isStaffMember, memberFromNrps, type RosterMember } from '../../src/domain/roster';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const member = (roles: string[]): RosterMember => ({ userId: 'u1', name: null, email: null, sourcedId: null, roles, active: true });

describe('memberFromNrps: one NRPS member (untrusted JSON) as the report needs it', () => {
  it('maps a full Moodle member', () => {
    expect(
      memberFromNrps({
        user_id: '42',
        name: 'Ana Pérez',
        given_name: 'Ana',
        family_name: 'Pérez',
        email: 'ana@example.cl',
        lis_person_sourcedid: '12345678-5',
        ext_user_username: 'aperez',
        roles: [`${LIS}Learner`],
        status: 'Active',
      }),
    ).toEqual({ userId: '42', name: 'Ana Pérez', email: 'ana@example.cl', sourcedId: '12345678-5', username: 'aperez', roles: [`${LIS}Learner`], active: true });
  });

  it('builds the name from given and family names when "name" is missing or blank', () => {
    expect(memberFromNrps({ user_id: '1', given_name: ' Ana ', family_name: 'Pérez' })?.name).toBe('Ana Pérez');
    expect(memberFromNrps({ user_id: '1', name: '   ', family_name: 'Pérez' })?.name).toBe('Pérez');
    expect(memberFromNrps({ user_id: '1', given_name: 'Ana' })?.name).toBe('Ana');
    expect(memberFromNrps({ user_id: '1' })?.name).toBeNull();
  });

  it('trims texts, drops blank ones and cuts each at 200 characters', () => {
    const m = memberFromNrps({ user_id: '1', name: `  ${'n'.repeat(250)}  `, email: '  ', lis_person_sourcedid: ' 9 ' });
    expect(m?.name).toBe('n'.repeat(200));
    expect(m?.email).toBeNull();
    expect(m?.sourcedId).toBe('9');
  });

  it('cuts the user id at 255 characters', () => {
    expect(memberFromNrps({ user_id: 'x'.repeat(300) })?.userId).toBe('x'.repeat(255));
  });

  it('is active unless the LMS says otherwise', () => {
    expect(memberFromNrps({ user_id: '1' })?.active).toBe(true);
    expect(memberFromNrps({ user_id: '1', status: 'Active' })?.active).toBe(true);
    expect(memberFromNrps({ user_id: '1', status: 'Inactive' })?.active).toBe(false);
    expect(memberFromNrps({ user_id: '1', status: 'Deleted' })?.active).toBe(false);
  });

  it('keeps only text roles, at most 20', () => {
    expect(memberFromNrps({ user_id: '1', roles: ['Learner', 7, null, 'Instructor'] })?.roles).toEqual(['Learner', 'Instructor']);
    expect(memberFromNrps({ user_id: '1', roles: Array.from({ length: 25 }, (_, i) => `r${i}`) })?.roles).toHaveLength(20);
    expect(memberFromNrps({ user_id: '1', roles: 'Learner' })?.roles).toEqual([]);
    expect(memberFromNrps({ user_id: '1' })?.roles).toEqual([]);
  });

  it('refuses what has no user id', () => {
    expect(memberFromNrps(null)).toBeNull();
    expect(memberFromNrps('42')).toBeNull();
    expect(memberFromNrps({ name: 'Ana' })).toBeNull();
    expect(memberFromNrps({ user_id: '' })).toBeNull();
    expect(memberFromNrps({ user_id: 42 })).toBeNull();
  });

  it('ignores names, e-mails and ids that are not text', () => {
    const m = memberFromNrps({ user_id: '1', name: 5, email: ['a@b.cl'], lis_person_sourcedid: {} });
    expect(m).toMatchObject({ name: null, email: null, sourcedId: null });
  });
});

describe('who is a learner and who is staff in the roster', () => {
  it('a Learner role, full URI or short, makes a learner', () => {
    expect(isLearnerMember(member([`${LIS}Learner`]))).toBe(true);
    expect(isLearnerMember(member(['Learner']))).toBe(true);
    expect(isLearnerMember(member(['http://purl.imsglobal.org/vocab/lis/v2/institution/person#Learner']))).toBe(true);
  });

  it('a role that only contains the word is not a learner', () => {
    expect(isLearnerMember(member(['LearnerX']))).toBe(false);
    expect(isLearnerMember(member([]))).toBe(false);
  });

  it('staff roles, full URI or short, make staff, even with a Learner role too', () => {
    for (const role of ['Instructor', 'Administrator', 'ContentDeveloper', 'TeachingAssistant']) {
      expect(isStaffMember(member([`${LIS}${role}`]))).toBe(true);
      expect(isStaffMember(member([role]))).toBe(true);
      expect(isLearnerMember(member(['Learner', role]))).toBe(false);
    }
  });

  it('a staff sub-role is staff; a look-alike is not', () => {
    // LTI sub-role of Instructor (membership/Instructor#TeachingAssistant): staff.
    expect(isStaffMember(member(['http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant']))).toBe(true);
    expect(isStaffMember(member(['Mentor']))).toBe(false);
    expect(isStaffMember(member(['InstructorX']))).toBe(false);
    expect(isStaffMember(member(['Learner']))).toBe(false);
  });
});
