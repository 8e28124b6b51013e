/** Issue #20: the staff navigation marks the section of the page shown (aria-current="page"). */
import { staffSection } from '../../src/web/staff-nav';

describe('staffSection', () => {
  it.each([
    ['/', 'home'],
    ['/staff/report', 'report'],
    ['/staff/report/print', 'report'],
    ['/staff/learners/ana', 'report'],
    ['/staff/actions', 'actions'],
    ['/staff/actions/upload', 'actions'],
    ['/staff', 'settings'],
    ['/staff/settings', 'settings'],
    ['/staff/otecs', 'settings'],
    ['/staff/otecs/x/unlink', 'settings'],
    ['/staff/audit', 'audit'],
  ])('%s → %s', (path, section) => {
    expect(staffSection(path)).toBe(section);
  });

  it.each(['/staff/attendance', '/staff/reports', '/staff/export/report.csv', '/sence/start', '/api/status'])('%s belongs to no section', (path) => {
    expect(staffSection(path)).toBeNull();
  });
});
